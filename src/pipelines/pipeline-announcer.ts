/**
 * Tells outbound webhooks when a pipeline ends — completed, failed, cancelled — or is blocked (a
 * failed step holds steps that wait for its retry): exactly once per end, across every worker.
 * Migration 032 explains the two halves; this is the second: the webhook sender calls announce()
 * at each look, and it turns the checks the tasks' trigger wrote into deliveries, in one
 * transaction with the pipelines' rows locked.
 */
import type { Db } from "../store/db.js";
import { insertPipelineDeliveries } from "../store/sql/pipelines/insert-pipeline-deliveries.js";
import { lockPipelines } from "../store/sql/pipelines/lock-pipelines.js";
import type { PipelineRow } from "../store/sql/pipelines/pipeline-row.js";
import { selectStepStates, type StepState } from "../store/sql/pipelines/select-step-states.js";
import { setAnnouncedStatus } from "../store/sql/pipelines/set-announced-status.js";
import { takePipelineChecks } from "../store/sql/pipelines/take-pipeline-checks.js";
import type { PipelineEvent } from "../store/sql/webhooks/webhook-row.js";
import { pipelineStatus, type PipelineStatus } from "./pipeline-service.js";

/** Checks taken per look at most (the rest at the next look, at once). */
const BATCH = 100;

/** What a pipeline's checks come to: an end to announce, a run that clears the last one, or nothing. */
export type Announcement = { announce: PipelineEvent; status: PipelineStatus } | { clear: true } | undefined;

export class PipelineAnnouncer {
  constructor(private readonly db: Db) {}

  /** Announces what the pending checks say; `checks` taken (BATCH: more may wait), `announced` pipelines. */
  announce(): Promise<{ checks: number; announced: number }> {
    return this.db.transaction(async (tx) => {
      const taken = await takePipelineChecks(tx, BATCH);
      if (taken.length === 0) return { checks: 0, announced: 0 };
      const pipelines = await lockPipelines(tx, [...new Set(taken.map((c) => c.pipelineId))].sort());
      const reopened = taken.filter((c) => c.reopened);
      // Read after the locks: a worker that waited for another's sees the steps as that one left them.
      const states = new Map((await selectStepStates(tx, pipelines.flatMap((p) => p.task_ids))).map((s) => [s.id, s]));
      let announced = 0;
      for (const pipeline of pipelines) {
        // A step ran again since the last end was told: that end is over, even when the pipeline has
        // already reached the same one again (a retried step that failed at once is blocked again).
        // Its own steps only: a task tagged with the pipeline by hand changes nothing.
        const rerun = pipeline.announced_status !== null && reopened.some((c) => c.pipelineId === pipeline.id && pipeline.task_ids.includes(c.taskId));
        const outcome = announcement(rerun ? { ...pipeline, announced_status: null } : pipeline, states);
        if (outcome && "announce" in outcome) {
          await insertPipelineDeliveries(tx, pipeline.id, outcome.announce, pipelinePayload(pipeline, states, outcome.status));
          await setAnnouncedStatus(tx, pipeline.id, outcome.status);
          announced += 1;
        } else if (outcome || rerun) {
          await setAnnouncedStatus(tx, pipeline.id, null);
        }
      }
      return { checks: taken.length, announced };
    });
  }
}

/**
 * What to tell of a pipeline now. An end already announced is not announced again. "blocked" is
 * told only when a step truly waits for a retry — a pending step whose failed or cancelled step
 * before it will not cancel it (onDependencyFailure "wait"); while the steps a failure dooms are
 * still being cancelled (a moment, by whichever worker), the pipeline is on its way to "failed".
 */
export function announcement(pipeline: PipelineRow, states: ReadonlyMap<string, StepState>): Announcement {
  const statusOf = (taskId: string) => states.get(taskId)?.status ?? "removed";
  const status = pipelineStatus(pipeline.steps.map((step) => statusOf(step.taskId)));
  // Plain statuses (no decisions read): awaiting_approval cannot come out, but is told nothing as running is.
  if (status === "pending" || status === "running" || status === "awaiting_approval") return pipeline.announced_status === null ? undefined : { clear: true };
  if (status === pipeline.announced_status) return undefined;
  if (status === "blocked") {
    const byName = new Map(pipeline.steps.map((step) => [step.name, step]));
    const stuck = pipeline.steps.some((step) => {
      const state = states.get(step.taskId);
      if (state?.status !== "pending" || state.on_dependency_failure === "cancel") return false;
      return step.after.some((name) => {
        const before = byName.get(name);
        return before !== undefined && ["failed", "cancelled"].includes(statusOf(before.taskId));
      });
    });
    if (!stuck) return undefined;
  }
  return { announce: `pipeline.${status}`, status };
}

/** The pipeline as a delivery's body carries it. */
function pipelinePayload(pipeline: PipelineRow, states: ReadonlyMap<string, StepState>, status: PipelineStatus): Record<string, unknown> {
  return {
    id: pipeline.id,
    title: pipeline.title,
    origin: pipeline.origin,
    status,
    createdAt: pipeline.created_at.toISOString(),
    at: new Date().toISOString(),
    steps: pipeline.steps.map((step) => {
      const state = states.get(step.taskId);
      return { name: step.name, taskId: step.taskId, status: state?.status ?? "removed", ...(state?.error ? { error: state.error } : {}) };
    }),
  };
}
