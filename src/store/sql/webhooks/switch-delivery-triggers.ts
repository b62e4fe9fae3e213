import type { Queryable } from "../../db.js";
import { DELIVERY_TRIGGERS } from "../../migrations/015-webhooks.js";
import { RETRY_TRIGGER, START_TRIGGER } from "../../migrations/016-webhook-start-and-retry.js";
import { PIPELINE_CHECK_TRIGGER } from "../../migrations/032-pipeline-events.js";
import { ASK_TRIGGER } from "../../migrations/036-approvals.js";
import { END_EVENTS, PIPELINE_EVENTS, type WebhookEvent } from "./webhook-row.js";
import { BUDGET_EVENTS } from "../spend/flip-budget-state.js";
import { DRIVE_BUDGET_EVENTS, PERSON_BUDGET_EVENTS } from "../holder-budgets/holder-budget-events.js";

/** Each trigger that writes deliveries, and the events an enabled webhook must ask for to need it. */
const TRIGGERS: readonly { name: string; events: readonly WebhookEvent[] }[] = [
  ...DELIVERY_TRIGGERS.map((name) => ({ name, events: END_EVENTS })),
  { name: START_TRIGGER, events: ["started"] },
  { name: RETRY_TRIGGER, events: ["retrying"] },
  { name: ASK_TRIGGER, events: ["awaiting_approval"] },
  // Not a delivery of its own: the pipeline checks the sender turns into pipeline.* deliveries.
  { name: PIPELINE_CHECK_TRIGGER, events: PIPELINE_EVENTS },
];

const quoted = (values: readonly string[]) => `ARRAY[${values.map((v) => `'${v}'`).join(", ")}]::text[]`;

/**
 * Enables each trigger that writes deliveries while an enabled webhook asks for one of its events,
 * and disables it when none does: an agent without webhooks pays nothing when a task ends, and one
 * without a webhook on "started" nothing when a task is claimed. Called in the transaction that
 * changes ph_webhooks, so no event is missed between a webhook's creation and its trigger. Alters
 * the table (a short exclusive lock) only when a trigger's state changes.
 */
export async function switchDeliveryTriggers(db: Queryable): Promise<void> {
  const steps = TRIGGERS.map(({ name, events }) => `
      v_want := EXISTS (SELECT 1 FROM ph_webhooks WHERE enabled AND events && ${quoted(events)});
      v_on := EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ph_tasks'::regclass AND tgname = '${name}' AND tgenabled <> 'D');
      IF v_want AND NOT v_on THEN
        ALTER TABLE ph_tasks ENABLE TRIGGER ${name};
      ELSIF v_on AND NOT v_want THEN
        ALTER TABLE ph_tasks DISABLE TRIGGER ${name};
      END IF;`);
  await db.query(`DO $do$
    DECLARE
      v_want boolean;
      v_on boolean;
    BEGIN${steps.join("")}
    END
  $do$`);
}

/** The delivery triggers that are on, by name (for tests). */
export async function enabledDeliveryTriggers(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ tgname: string }>(
    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'ph_tasks'::regclass AND tgname = ANY($1::text[]) AND tgenabled <> 'D' ORDER BY tgname",
    [TRIGGERS.map((t) => t.name)],
  );
  return rows.map((r) => r.tgname);
}

/** What the sender's deliveries come from now: a budget webhook's (written by code, not a trigger). */
export const BUDGET_SOURCE = "budget";

/**
 * What a sender has to look for, in one statement: the delivery triggers that are on, and
 * BUDGET_SOURCE while an enabled webhook asks for the budgets' events (the daily one's, a drive's, a person's). None: it idles.
 */
export async function activeDeliverySources(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ source: string }>(
    `SELECT tgname::text AS source FROM pg_trigger WHERE tgrelid = 'ph_tasks'::regclass AND tgname = ANY($1::text[]) AND tgenabled <> 'D'
     UNION ALL
     SELECT '${BUDGET_SOURCE}' WHERE EXISTS (SELECT 1 FROM ph_webhooks WHERE enabled AND events && $2::text[])
     ORDER BY 1`,
    [TRIGGERS.map((t) => t.name), [...BUDGET_EVENTS, ...DRIVE_BUDGET_EVENTS, ...PERSON_BUDGET_EVENTS]],
  );
  return rows.map((r) => r.source);
}

/** Whether any delivery trigger is on — any webhook enabled (the sender idles otherwise). */
export async function deliveryTriggersEnabled(db: Queryable): Promise<boolean> {
  return (await enabledDeliveryTriggers(db)).length > 0;
}
