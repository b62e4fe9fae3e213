/**
 * Outbound webhooks also on a task's start and on its retries, not only on its end.
 *
 * Two more triggers on ph_tasks, each passing its event to the delivery function:
 * - "started": the status becomes running — a claim, on whichever worker, for every attempt;
 * - "retrying": a run goes back to the queue with its attempt counted — a retryable failure with
 *   attempts left (scheduleRetry), or a worker that stopped renewing its lease (recovery). A
 *   release at shutdown uncounts the attempt (attempts - 1) and is no retry: no delivery.
 *
 * The claim is the hot path, so each trigger is on only while an enabled webhook asks for its event
 * (switch-delivery-triggers.ts): webhooks on task ends alone leave claims as they were.
 *
 * The function now takes the event from the trigger's argument (the end triggers of 015 pass none:
 * the event is the status), puts it in the payload, and gives finishedAt only for an end; a retry
 * carries when it is due (retryAt) and a start the worker that claimed it. An index lets the
 * sender send one task's deliveries to a webhook in order.
 */
export const name = "webhook-start-and-retry";

export const START_TRIGGER = "ph_tasks_webhook_deliveries_on_start";
export const RETRY_TRIGGER = "ph_tasks_webhook_deliveries_on_retry";

/**
 * The delivery function: one row per enabled webhook that asks for the event and matches the task.
 * `moreArms` adds payload fields for further events (WHEN ... THEN ... of its CASE; migration 036).
 */
export const enqueueDeliveriesFunction = (moreArms = "") => `
CREATE OR REPLACE FUNCTION ph_enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = on SET jit = off AS $fn$
DECLARE
  v_event text := coalesce(TG_ARGV[0], NEW.status);
  v_end boolean := v_event IN ('completed', 'failed', 'cancelled');
BEGIN
  INSERT INTO ph_webhook_deliveries (id, webhook_id, task_id, event, payload)
  SELECT gen_random_uuid()::text, w.id, NEW.id, 'task.' || v_event,
         jsonb_build_object('id', NEW.id, 'type', NEW.type, 'title', NEW.title, 'status', NEW.status,
                            'priority', NEW.priority, 'attempts', NEW.attempts, 'maxAttempts', NEW.max_attempts,
                            'source', NEW.source, 'result', NEW.result, 'error', NEW.error,
                            'createdAt', NEW.created_at, 'startedAt', NEW.started_at,
                            'finishedAt', CASE WHEN v_end THEN coalesce(NEW.finished_at, now()) END)
         || CASE v_event WHEN 'retrying' THEN jsonb_build_object('retryAt', NEW.run_at)
                         WHEN 'started' THEN jsonb_build_object('workerId', NEW.locked_by)${moreArms}
                         ELSE '{}'::jsonb END
  FROM ph_webhooks w
  WHERE w.enabled AND v_event = ANY (w.events)
    AND (w.task_type IS NULL OR w.task_type = NEW.type)
    AND (w.drive_id IS NULL OR w.drive_id = NEW.drive_id);
  RETURN NULL;
END
$fn$`;

export const statements = [
  enqueueDeliveriesFunction(),
  `CREATE TRIGGER ${START_TRIGGER} AFTER UPDATE OF status ON ph_tasks
   FOR EACH ROW WHEN (NEW.status = 'running' AND OLD.status IS DISTINCT FROM 'running')
   EXECUTE FUNCTION ph_enqueue_webhook_deliveries('started')`,
  `CREATE TRIGGER ${RETRY_TRIGGER} AFTER UPDATE OF status ON ph_tasks
   FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status = 'pending' AND NEW.attempts = OLD.attempts)
   EXECUTE FUNCTION ph_enqueue_webhook_deliveries('retrying')`,
  // Deliveries of one task to one webhook go out in order (claim-due-deliveries.ts): the earlier
  // pending one is found through this index.
  "CREATE INDEX ph_webhook_deliveries_task_order ON ph_webhook_deliveries (webhook_id, task_id, created_at, id) WHERE status = 'pending'",
  `ALTER TABLE ph_tasks DISABLE TRIGGER ${START_TRIGGER}`,
  `ALTER TABLE ph_tasks DISABLE TRIGGER ${RETRY_TRIGGER}`,
];
