/**
 * The outbound webhooks' tables, beside the tasks' in the same database: one interface over the
 * SQL files in sql/webhooks/. Every change to the webhooks switches the delivery triggers in the
 * same transaction (see switch-delivery-triggers.ts).
 */
import type { Db } from "./db.js";
import { claimCappedDeliveries } from "./sql/webhooks/claim-capped-deliveries.js";
import { claimDueDeliveries } from "./sql/webhooks/claim-due-deliveries.js";
import { deleteOldDeliveries } from "./sql/webhooks/delete-old-deliveries.js";
import { deleteWebhook } from "./sql/webhooks/delete-webhook.js";
import { deleteRateLimits } from "./sql/rate-limits/delete-rate-limits.js";
import { finishDelivery, type DeliveryOutcome } from "./sql/webhooks/finish-delivery.js";
import { holdWebhook } from "./sql/webhooks/hold-webhook.js";
import { liftWebhookHold } from "./sql/webhooks/lift-webhook-hold.js";
import { insertPing } from "./sql/webhooks/insert-ping.js";
import { insertWebhook } from "./sql/webhooks/insert-webhook.js";
import { countDeliveries, listDeliveries, nextDeliveryDue } from "./sql/webhooks/list-deliveries.js";
import { listWebhooks } from "./sql/webhooks/list-webhooks.js";
import { redeliver } from "./sql/webhooks/redeliver.js";
import { selectWebhook } from "./sql/webhooks/select-webhook.js";
import { activeDeliverySources, deliveryTriggersEnabled, switchDeliveryTriggers } from "./sql/webhooks/switch-delivery-triggers.js";
import { updateWebhook } from "./sql/webhooks/update-webhook.js";
import type { DeliveryCounts, DeliveryRow, DeliveryStatus, DueDelivery, NewWebhookFields, WebhookFields, WebhookRow } from "./sql/webhooks/webhook-row.js";

export class WebhookStore {
  constructor(readonly db: Db) {}

  insert(id: string, fields: NewWebhookFields): Promise<WebhookRow | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await insertWebhook(tx, id, fields);
      if (row) await switchDeliveryTriggers(tx);
      return row;
    });
  }

  get(idOrName: string): Promise<WebhookRow | undefined> {
    return selectWebhook(this.db, idOrName);
  }

  list(): Promise<WebhookRow[]> {
    return listWebhooks(this.db);
  }

  update(id: string, fields: WebhookFields): Promise<WebhookRow | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await updateWebhook(tx, id, fields);
      if (row) await switchDeliveryTriggers(tx);
      return row;
    });
  }

  delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const removed = await deleteWebhook(tx, id);
      if (removed) await switchDeliveryTriggers(tx);
      await deleteRateLimits(tx, "webhook", [id]);
      return removed;
    });
  }

  triggersEnabled(): Promise<boolean> {
    return deliveryTriggersEnabled(this.db);
  }

  /** The delivery triggers on now, by name (switch-delivery-triggers.ts). */
  /** The triggers on, and "budget" while a webhook asks for the budget's events: what the sender looks for. */
  activeSources(): Promise<string[]> {
    return activeDeliverySources(this.db);
  }

  deliveries(webhookId: string, options: { status?: DeliveryStatus; limit: number }): Promise<DeliveryRow[]> {
    return listDeliveries(this.db, webhookId, options);
  }

  deliveryCounts(webhookId?: string): Promise<Map<string, DeliveryCounts>> {
    return countDeliveries(this.db, webhookId);
  }

  /** `caps`: at most so many deliveries of these webhooks (their rate limits' grants). */
  claimDue(workerId: string, leaseMs: number, limit: number, caps?: ReadonlyMap<string, number>): Promise<DueDelivery[]> {
    return caps && caps.size > 0 ? claimCappedDeliveries(this.db, workerId, leaseMs, limit, caps) : claimDueDeliveries(this.db, workerId, leaseMs, limit);
  }

  /** No delivery of the webhook goes out before `until` (its receiver said 429 / 503; `reason` says so). */
  hold(webhookId: string, until: Date, reason: string): Promise<boolean> {
    return holdWebhook(this.db, webhookId, until, reason);
  }

  liftHold(webhookId: string): Promise<WebhookRow | undefined> {
    return liftWebhookHold(this.db, webhookId);
  }

  finish(workerId: string, outcome: DeliveryOutcome): Promise<boolean> {
    return finishDelivery(this.db, workerId, outcome);
  }

  /** `except`: webhooks whose deliveries wait for their rate limit (see nextDeliveryDue). */
  nextDue(except?: readonly string[]): Promise<Date | undefined> {
    return nextDeliveryDue(this.db, except);
  }

  redeliver(webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
    return redeliver(this.db, webhookId, deliveryId);
  }

  ping(webhookId: string): Promise<DeliveryRow> {
    return insertPing(this.db, webhookId);
  }

  deleteOld(olderThanMs: number): Promise<number> {
    return deleteOldDeliveries(this.db, olderThanMs);
  }
}
