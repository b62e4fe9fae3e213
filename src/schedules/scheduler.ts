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
import { isTerminalStatus, type Task } from "../tasks/types.js";
import { nextOccurrence } from "./cron.js";
import { firingContext, occurrenceKey } from "./schedule-service.js";

/** How long a claimed firing is this worker's; after that another worker fires the occurrence. */
export const FIRING_LEASE_MS = 60_000;
/** Schedules fired per look at most (the rest are due at the next, at once). */
const BATCH = 20;

export interface SchedulerOptions {
  store: ScheduleStore;
  workerId: string;
  pollMs: number;
  /** Makes a task (and its document, in the agent); `origin` goes into its source. */
  createTask: (input: unknown, origin: string) => Promise<{ task: Task; created: boolean }>;
  getTask: (id: string) => Promise<Task | undefined>;
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
    if (last && !isTerminalStatus(last.status)) {
      firing.outcome = "skipped";
      firing.error = `skipped ${occurrence.toISOString()}: task ${last.id} of the last firing is still ${last.status}`;
    } else {
      try {
        const template = fillTemplate(schedule.task, firingContext(schedule, occurrence)) as Record<string, unknown>;
        const { task } = await this.options.createTask({ ...template, idempotencyKey: occurrenceKey(schedule.id, occurrence) }, `schedule:${schedule.name}`);
        firing.taskId = task.id;
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
