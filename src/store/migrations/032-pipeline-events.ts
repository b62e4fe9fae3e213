/**
 * Outbound webhooks on a pipeline's end: `pipeline.completed`, `pipeline.failed`,
 * `pipeline.cancelled`, and `pipeline.blocked` (a failed step holds steps that wait for its retry).
 *
 * A pipeline's status is its steps' together, so no single task's change can say it: two steps
 * ending at once on two workers each see the other still running. So the end is found in two
 * halves (src/pipelines/pipeline-announcer.ts):
 * - a trigger on ph_tasks writes a "check" row (the pipeline's id) whenever one of its tasks enters
 *   or leaves an end status (completed, failed, cancelled), in the same transaction — no lock taken
 *   there, so the finish path cannot deadlock on two pipelines, and no end is missed;
 * - the webhook sender, on any worker, takes check rows (SKIP LOCKED), locks their pipelines' rows
 *   (in id order), reads the steps' statuses as committed then, and writes one delivery per
 *   subscribed webhook when the status is an end it has not announced yet (`announced_status`,
 *   updated in the same transaction). The lock serialises two workers on the same pipeline, so each
 *   end is announced once; a check written when a task left an end (a retry) is marked `reopened`
 *   and clears it, so the next end is announced again — even one reached before the check is taken
 *   (a retried step that fails again at once is blocked again, and told so).
 *
 * The trigger is on only while an enabled webhook asks for a pipeline event (the same switch as the
 * other delivery triggers). A pipeline delivery's task_id holds the pipeline's id: deliveries are
 * sent in order per (webhook, task_id), so a pipeline's "blocked" goes out before its "completed".
 * `written_status` does for a trigger rule's onResult what `announced_status` does for webhooks:
 * the end last written back to the document that asked for the pipeline (rule-runner.ts).
 * Additive: an agent that does not know this version neither enables the trigger nor reads the table.
 */
export const name = "pipeline-events";

export const PIPELINE_CHECK_TRIGGER = "ph_tasks_pipeline_checks";

const END = "('completed', 'failed', 'cancelled')";

const queueChecks = `
CREATE FUNCTION ph_queue_pipeline_checks() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ph_pipeline_checks (pipeline_id, task_id, reopened)
  SELECT substr(tag, 10), NEW.id, NOT (NEW.status IN ${END})
  FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(NEW.params->'tags') = 'array' THEN NEW.params->'tags' ELSE '[]'::jsonb END) AS tag
  WHERE tag LIKE 'pipeline:%';
  RETURN NULL;
END
$fn$`;

export const statements = [
  `CREATE TABLE ph_pipeline_checks (
     id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     pipeline_id text NOT NULL,
     task_id     text NOT NULL,
     -- A task left an end status (a retry): the end announced before is over, whatever comes next.
     reopened    boolean NOT NULL DEFAULT false
   )`,
  // The last end announced to webhooks (null: none since the pipeline last ran).
  "ALTER TABLE ph_pipelines ADD COLUMN announced_status text",
  // The last end a trigger rule's onResult wrote to the document that asked for the pipeline.
  "ALTER TABLE ph_pipelines ADD COLUMN written_status text",
  // The rules' pipelines whose end is not written back yet (a sweep finds those that ended meanwhile).
  "CREATE INDEX ph_pipelines_rule_unwritten ON ph_pipelines (id) WHERE written_status IS NULL AND origin LIKE 'rule:%'",
  queueChecks,
  `CREATE TRIGGER ${PIPELINE_CHECK_TRIGGER} AFTER UPDATE OF status ON ph_tasks
   FOR EACH ROW WHEN ((OLD.status IN ${END}) IS DISTINCT FROM (NEW.status IN ${END}) AND NEW.params ? 'tags')
   EXECUTE FUNCTION ph_queue_pipeline_checks()`,
  `ALTER TABLE ph_tasks DISABLE TRIGGER ${PIPELINE_CHECK_TRIGGER}`,
];
