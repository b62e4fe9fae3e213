/**
 * A pipeline's status from its steps' tasks, in SQL: pipelineStatus() of pipeline-service.ts, the
 * same rules (a removed task counts as completed). A test compares the two on every mix of up to
 * three step statuses (test/pipeline-list.test.ts).
 *
 * STEP_COUNTS is a lateral subquery over pipeline `p`'s tasks (read by id), to be aliased `c`;
 * PIPELINE_STATUS the status from its counts. A step awaiting a decision (an approval asked for and
 * not decided) is counted among the pending too.
 */
import { ASKED_UNDECIDED } from "../../migrations/036-approvals.js";

export const STEP_COUNTS = `SELECT count(*) FILTER (WHERE t.status = 'pending') AS pending,
              count(*) FILTER (WHERE t.status = 'running') AS running,
              count(*) FILTER (WHERE ${ASKED_UNDECIDED}) AS awaiting,
              count(*) FILTER (WHERE t.status = 'completed' OR t.id IS NULL) AS done,
              count(*) FILTER (WHERE t.status = 'failed') AS failed,
              count(*) FILTER (WHERE t.status = 'cancelled') AS cancelled
       FROM unnest(p.task_ids) AS step(id) LEFT JOIN ph_tasks t ON t.id = step.id`;

export const PIPELINE_STATUS = `CASE
  WHEN c.pending + c.running = 0 THEN CASE WHEN c.failed > 0 THEN 'failed' WHEN c.cancelled > 0 THEN 'cancelled' ELSE 'completed' END
  WHEN c.running > 0 THEN 'running'
  WHEN c.failed + c.cancelled > 0 THEN 'blocked'
  WHEN c.awaiting > 0 THEN 'awaiting_approval'
  WHEN c.done > 0 THEN 'running'
  ELSE 'pending' END`;
