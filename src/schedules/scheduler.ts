/**
 * Fires cron schedules: every worker runs one. It claims the schedules that are due (one worker
 * per occurrence, see claim-due-schedules.ts), makes each one's task from its template — with the
 * occurrence's idempotency key, so a firing retried after a crash makes no second task — and moves
 * the schedule on to its next occurrence. Occurrences missed while no worker ran (the agent was
 * down) make one task, not one per occurrence. With overlap "skip", an occurrence whose previous
 * task is still pending or running is skipped (counted, no task).
 *
 * It looks every TASK_SCHEDULE_POLL_MS, and sooner when the soonest schedule it knows is due.
 */
import type { Logger } from "../logger.js";
import { PollLoop } from "../poll-loop.js";
import type { TaskMetrics } from "../metrics.js";
import { fillTemplate } from "../rules/template.js";
import type { ScheduleStore } from "../store/schedule-store.js";
import type { Firing } from "../store/sql/schedules/finish-firing.js";
import type { ScheduleRow } from "../store/sql/schedules/schedule-row.js";
import { TERMINAL_STATUSES, type Task } from "../tasks/types.js";
import { pipelineIn } from "../pipelines/pipeline-in-task.js";
import { nextOccurrence } from "./cron.js";
import { firingContext, occurrenceKey } from "./schedule-service.js";

/** How long a claimed firing is this worker's; after that another worker fires the occurrence. */
export const FIRING_LEASE_MS = 60_000;
/** A task's or a pipeline's statuses that end it ("blocked" does not: its steps still wait). */
const ENDED = new Set<string>(TERMINAL_STATUSES);
/** Schedules fired per look at most (the rest are due at the next, at once). */
const BATCH = 20;

export interface SchedulerOptions {
  store: ScheduleStore;
  workerId: string;
  pollMs: number;
  /** Makes a task (and its document, in the agent); `origin` goes into its source. */
  createTask: (input: unknown, origin: string) => Promise<{ task: Task; created: boolean }>;
  /** Makes a pipeline (a schedule whose task is `{ "pipeline": {...} }`); absent: such firings fail. */
  createPipeline?: (input: unknown, origin: string) => Promise<{ id: string }>;
  /** The last firing's task or pipeline, for overlap "skip" (its status: still going or ended). */
  getTask: (id: string) => Promise<{ id: string; status: string } | undefined>;
  logger: Logger;
  metrics?: TaskMetrics;
  /** Default FIRING_LEASE_MS. */
  firingLeaseMs?: number;
}

export class Scheduler {
  private readonly loop: PollLoop;

  constructor(private readonly options: SchedulerOptions) {
    this.loop = new PollLoop(() => this.look(), options.pollMs, (error) => options.logger.error({ err: error }, "firing cron schedules failed; trying again shortly"));
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Looks for due schedules now (a schedule was created or changed). */
  wake(): void {
    this.loop.wake();
  }

  /** One look: fires what is due; resolves with the delay until the next. */
  private async look(): Promise<number> {
    const due = await this.options.store.claimDue(this.options.workerId, this.options.firingLeaseMs ?? FIRING_LEASE_MS, BATCH);
    for (const schedule of due) await this.fire(schedule);
    if (due.length === BATCH) return 0;
    const next = await this.options.store.nextDue();
    // At least a few ms when nothing was due: the database's clock may be behind this machine's.
    return next ? Math.max(due.length === 0 ? 25 : 0, next.getTime() - Date.now()) : this.options.pollMs;
  }

  private async fire(schedule: ScheduleRow): Promise<void> {
    const { logger, metrics, workerId } = this.options;
    const occurrence = schedule.next_fire_at ?? new Date();
    // From now, not from the occurrence: any number of missed occurrences make one firing.
    const next = nextOccurrence(schedule.cron, schedule.timezone, new Date(Math.max(Date.now(), occurrence.getTime())));
    const firing: Firing = { id: schedule.id, occurrence, next, outcome: "fired", taskId: null, error: null };
    const last = schedule.overlap === "skip" && schedule.last_task_id ? await this.options.getTask(schedule.last_task_id) : undefined;
    if (last && !ENDED.has(last.status)) {
      firing.outcome = "skipped";
      const what = pipelineIn(schedule.task) !== undefined ? "pipeline" : "task";
      firing.error = `skipped ${occurrence.toISOString()}: ${what} ${last.id} of the last firing is still ${last.status}`;
    } else {
      try {
        const template = fillTemplate(schedule.task, firingContext(schedule, occurrence)) as Record<string, unknown>;
        const key = occurrenceKey(schedule.id, occurrence);
        const pipeline = pipelineIn(template);
        if (pipeline !== undefined) {
          if (!this.options.createPipeline) throw new Error("this agent makes no pipelines from schedules");
          firing.taskId = (await this.options.createPipeline({ ...(pipeline as Record<string, unknown>), idempotencyKey: key }, `schedule:${schedule.name}`)).id;
        } else {
          const { task } = await this.options.createTask({ ...template, idempotencyKey: key }, `schedule:${schedule.name}`);
          firing.taskId = task.id;
        }
      } catch (error) {
        // A template that stopped being valid (an executor removed, a root changed): recorded on
        // the schedule, which moves on; its next occurrence tries again.
        firing.outcome = "failed";
        firing.error = error instanceof Error ? error.message : String(error);
      }
    }
    const stored = await this.options.store.finishFiring(workerId, firing);
    metrics?.scheduleFirings.inc({ outcome: firing.outcome });
    const fields = { schedule: schedule.name, occurrence: occurrence.toISOString(), taskId: firing.taskId, next: next?.toISOString() ?? null };
    if (!stored) logger.warn(fields, "schedule changed or taken over while firing; its task (if any) stays, the schedule was not moved on by this worker");
    else if (firing.outcome === "failed") logger.error({ ...fields, error: firing.error }, "schedule could not make its task");
    else logger.info({ ...fields, outcome: firing.outcome }, firing.outcome === "fired" ? "schedule fired" : "schedule skipped an occurrence");
  }
}
