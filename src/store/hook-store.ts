/**
 * The inbound webhooks' table, beside the tasks' in the same database: one interface over the SQL
 * files in sql/hooks/.
 */
import type { Db } from "./db.js";
import { deleteHook } from "./sql/hooks/delete-hook.js";
import { deleteRateLimits } from "./sql/rate-limits/delete-rate-limits.js";
import type { HookFields, HookRow, NewHookFields } from "./sql/hooks/hook-row.js";
import { insertHook } from "./sql/hooks/insert-hook.js";
import { listHooks } from "./sql/hooks/list-hooks.js";
import { recordDelivery } from "./sql/hooks/record-delivery.js";
import { selectHook } from "./sql/hooks/select-hook.js";
import { updateHook } from "./sql/hooks/update-hook.js";

export class HookStore {
  constructor(readonly db: Db) {}

  insert(id: string, fields: NewHookFields): Promise<HookRow | undefined> {
    return insertHook(this.db, id, fields);
  }

  get(idOrName: string): Promise<HookRow | undefined> {
    return selectHook(this.db, idOrName);
  }

  list(): Promise<HookRow[]> {
    return listHooks(this.db);
  }

  update(id: string, fields: HookFields): Promise<HookRow | undefined> {
    return updateHook(this.db, id, fields);
  }

  /** Removes a hook and its rate limit, in one transaction. */
  delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const removed = await deleteHook(tx, id);
      await deleteRateLimits(tx, "hook", [id]);
      return removed;
    });
  }

  recordDelivery(id: string, delivery: { accepted: boolean; taskId: string | null; error: string | null }): Promise<void> {
    return recordDelivery(this.db, id, delivery);
  }
}
