import type { Queryable } from "../../db.js";
import { DELIVERY_TRIGGERS } from "../../migrations/015-webhooks.js";

/**
 * Enables the triggers that write deliveries while any webhook is enabled, and disables them when
 * none is: an agent without webhooks pays nothing when a task ends. Called in the transaction that
 * changes ph_webhooks, so no end is missed between a webhook's creation and its trigger. Alters
 * the table (a short exclusive lock) only when the state changes.
 */
export async function switchDeliveryTriggers(db: Queryable): Promise<void> {
  const [onUpdate, onInsert] = DELIVERY_TRIGGERS;
  await db.query(`DO $do$
    DECLARE
      v_want boolean := EXISTS (SELECT 1 FROM ph_webhooks WHERE enabled);
      v_on boolean := EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ph_tasks'::regclass AND tgname = '${onUpdate}' AND tgenabled <> 'D');
    BEGIN
      IF v_want AND NOT v_on THEN
        ALTER TABLE ph_tasks ENABLE TRIGGER ${onUpdate};
        ALTER TABLE ph_tasks ENABLE TRIGGER ${onInsert};
      ELSIF v_on AND NOT v_want THEN
        ALTER TABLE ph_tasks DISABLE TRIGGER ${onUpdate};
        ALTER TABLE ph_tasks DISABLE TRIGGER ${onInsert};
      END IF;
    END
  $do$`);
}

/** Whether the delivery triggers are on (for tests and the API). */
export async function deliveryTriggersEnabled(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ on: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'ph_tasks'::regclass AND tgname = $1 AND tgenabled <> 'D') AS on`,
    [DELIVERY_TRIGGERS[0]],
  );
  return rows[0]?.on ?? false;
}
