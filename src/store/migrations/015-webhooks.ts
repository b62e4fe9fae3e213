/**
 * Outbound webhooks: an agent tells other systems when a task ends. ph_webhooks holds the
 * subscriptions (a URL, the events, optional filters by task type and drive); ph_webhook_deliveries
 * is the outbox.
 *
 * A trigger on ph_tasks writes one delivery per matching webhook when a task reaches completed,
 * failed (for good: a retry stays pending) or cancelled — in the same transaction as the change,
 * whichever statement makes it (a finish, a cancel, a lease recovery, a refused request), so no
 * end is missed and none is written twice. The payload is the task as it was then.
 *
 * The triggers are disabled while no webhook is enabled (webhook-store.ts switches them), so an
 * agent without webhooks pays nothing on the finish path; with them, one scan of the small
 * ph_webhooks table per ended task.
 *
 * The function sets its own planner settings: it runs inside ph_finish_and_claim, whose
 * enable_seqscan = off made the scan of the (small) ph_webhooks table cost 10^10, and PostgreSQL
 * JIT-compiled it — 115 ms per ended task, measured. Deliveries have no foreign key to their
 * webhook (removing a webhook removes them, see delete-webhook.ts): its check on every delivery
 * written took the no-op benchmark from about 0.8 to 0.65 of its speed without webhooks.
 */
export const name = "webhooks";

export const DELIVERY_TRIGGERS = ["ph_tasks_webhook_deliveries_on_update", "ph_tasks_webhook_deliveries_on_insert"] as const;

const enqueueDeliveries = `
CREATE FUNCTION ph_enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = on SET jit = off AS $fn$
BEGIN
  INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload)
  SELECT gen_random_uuid()::text, w.id, NEW.id, 'task.' || NEW.status,
         jsonb_build_object('id', NEW.id, 'type', NEW.type, 'title', NEW.title, 'status', NEW.status,
                            'priority', NEW.priority, 'attempts', NEW.attempts, 'maxAttempts', NEW.max_attempts,
                            'source', NEW.source, 'result', NEW.result, 'error', NEW.error,
                            'createdAt', NEW.created_at, 'startedAt', NEW.started_at, 'finishedAt', coalesce(NEW.finished_at, now()))
  FROM ph_webhooks w
  WHERE w.enabled AND NEW.status = ANY (w.events)
    AND (w.task_type IS NULL OR w.task_type = NEW.type)
    AND (w.drive_id IS NULL OR w.drive_id = NEW.drive_id);
  RETURN NULL;
END
$fn$`;

export const statements = [
  `CREATE TABLE ph_webhooks (
     id text PRIMARY KEY,
     name text NOT NULL UNIQUE,
     url text NOT NULL,
     secret text NOT NULL,
     events text[] NOT NULL,
     task_type text,
     drive_id text,
     enabled boolean NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE ph_webhook_deliveries (
     id text PRIMARY KEY,
     webhook_id text NOT NULL,
     -- null for a ping (ph-tasks webhook ping), which is about no task
     task_id text,
     event text NOT NULL,
     payload jsonb NOT NULL,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_at timestamptz NOT NULL DEFAULT now(),
     locked_by text,
     lease_expires_at timestamptz,
     last_status integer,
     last_error text,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     delivered_at timestamptz
   )`,
  "CREATE INDEX ph_webhook_deliveries_due ON ph_webhook_deliveries (next_attempt_at, id) WHERE status = 'pending'",
  "CREATE INDEX ph_webhook_deliveries_webhook ON ph_webhook_deliveries (webhook_id, created_at DESC)",
  "CREATE INDEX ph_webhook_deliveries_finished ON ph_webhook_deliveries (updated_at) WHERE status <> 'pending'",
  enqueueDeliveries,
  `CREATE TRIGGER ${DELIVERY_TRIGGERS[0]} AFTER UPDATE OF status ON ph_tasks
   FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('completed', 'failed', 'cancelled'))
   EXECUTE FUNCTION ph_enqueue_webhook_deliveries()`,
  `CREATE TRIGGER ${DELIVERY_TRIGGERS[1]} AFTER INSERT ON ph_tasks
   FOR EACH ROW WHEN (NEW.status IN ('completed', 'failed', 'cancelled'))
   EXECUTE FUNCTION ph_enqueue_webhook_deliveries()`,
  `ALTER TABLE ph_tasks DISABLE TRIGGER ${DELIVERY_TRIGGERS[0]}`,
  `ALTER TABLE ph_tasks DISABLE TRIGGER ${DELIVERY_TRIGGERS[1]}`,
];
