/**
 * Pipelines: several tasks asked for at once as named steps that wait for each other. Stored with
 * their tasks (and task documents) in one transaction; their state is read from their tasks; a
 * pipeline is cancelled or retried as a whole. See migration 031 and the README's "Pipelines".
 */
import type { TaskBatchCreator } from "../tasks/api-task-creator.js";
import type { TaskManager } from "../tasks/task-manager.js";
import type { Task, TaskSource, TaskStatus } from "../tasks/types.js";
import { rowRuntime, rowToTask, type TaskRuntime } from "../store/task-store.js";
import type { PipelineStore } from "../store/pipeline-store.js";
import type { PipelineRow } from "../store/sql/pipelines/pipeline-row.js";
import { awaitsDecision } from "../tasks/executors/approval-executor.js";
import { parsePipelineRequest, planPipeline, type ExpandTemplate } from "./pipeline-request.js";
import type { UnwrittenEnds } from "../store/sql/write-back-sql.js";

export const PIPELINE_STATUSES = ["pending", "running", "awaiting_approval", "blocked", "completed", "failed", "cancelled"] as const;
/**
 * pending: no step has started; running: a step runs, or more wait for ones that completed;
 * awaiting_approval: nothing runs, nothing failed, and an approval step waits for a person's
 * decision (asked for: see approvals.ts); blocked: nothing runs, and steps wait for one that
 * failed or was cancelled (onFailure "wait": retry it); completed: every step completed; failed /
 * cancelled: every step ended, one failed / none failed and one was cancelled.
 */
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

/** Whether a pipeline of this status has ended (completed, failed or cancelled: blocked has not). */
export function pipelineHasEnded(status: PipelineStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

export interface PipelineStepView {
  name: string;
  after: string[];
  taskId: string;
  /** "removed": the retention cleanup removed its task. */
  status: TaskStatus | "removed";
  /** An approval step that waits for a person's decision now (asked for, not decided). */
  awaitingDecision: boolean;
  task: (Task & { runtime: TaskRuntime }) | undefined;
}

export interface PipelineView {
  id: string;
  title: string;
  origin: string;
  idempotencyKey: string | null;
  createdAt: Date;
  status: PipelineStatus;
  steps: PipelineStepView[];
  /** Who asked for it, as a named token or key proved it: its steps' source.by (gone with them). */
  by?: string;
}

/** The pipeline's idempotency key was taken by another request between our look and our insert. */
class PipelineKeyTaken extends Error {}

export class PipelineService {
  constructor(
    private readonly store: PipelineStore,
    private readonly manager: TaskManager,
    private readonly createTasks: TaskBatchCreator,
    private readonly expand: ExpandTemplate = (input) => Promise.resolve(input),
  ) {}

  /**
   * Checks the whole request (ValidationError naming every field), then stores it and its tasks at
   * once. `linkTo`: the source every step's task reports to (the document that asked: a rule's, a
   * task document's) — set after a template is expanded, so a template's steps are linked too.
   * `by`: the person who asked, as proven (each step's source.by).
   */
  async create(input: unknown, origin = "api", linkTo?: TaskSource, by?: string): Promise<{ pipeline: PipelineView; created: boolean }> {
    const parsed = parsePipelineRequest(await this.expand(input, "pipeline"));
    const request = linkTo ? { ...parsed, steps: parsed.steps.map((step) => ({ ...step, task: { ...step.task, source: linkTo } })) } : parsed;
    const existing = request.idempotencyKey ? await this.store.getByIdempotencyKey(request.idempotencyKey) : undefined;
    if (existing) return { pipeline: await this.view(existing), created: false };
    const plan = await planPipeline(request, this.manager.registry, this.expand);
    const row = { id: plan.id, title: plan.title, origin, idempotency_key: plan.idempotencyKey ?? null, steps: plan.steps, task_ids: plan.steps.map((s) => s.taskId) };
    let stored: PipelineRow | undefined;
    try {
      await this.createTasks(plan.inputs, {
        origin,
        by,
        ids: row.task_ids,
        within: async (tx) => {
          stored = await this.store.insert(tx, row);
          if (!stored) throw new PipelineKeyTaken();
        },
      });
    } catch (error) {
      const taken = error instanceof PipelineKeyTaken && plan.idempotencyKey ? await this.store.getByIdempotencyKey(plan.idempotencyKey) : undefined;
      if (taken) return { pipeline: await this.view(taken), created: false };
      throw error;
    }
    if (!stored) throw new Error(`pipeline ${plan.id}: its tasks were stored without it`);
    return { pipeline: await this.view(stored), created: true };
  }

  /** The pipeline an idempotency key made (a hook's repeated delivery). */
  async find(idempotencyKey: string): Promise<PipelineView | undefined> {
    const row = await this.store.getByIdempotencyKey(idempotencyKey);
    return row ? this.view(row) : undefined;
  }

  /**
   * The end's mark for the one caller that is to write this end back to the document the pipeline
   * came from, held for `leaseMs` (see migration 034); undefined for any other.
   */
  takeWrittenStatus(id: string, status: PipelineStatus, leaseMs: number): Promise<string | undefined> {
    return this.store.takeWrittenStatus(id, status, leaseMs);
  }

  /** The end was written back, or needs no writing; with `mark`, only while it is the end taken. */
  markWritten(id: string, status: PipelineStatus, mark?: string): Promise<void> {
    return this.store.markWritten(id, status, mark);
  }

  /** Trigger rules' pipelines that ended with their end not written back to their document. */
  unwrittenRuleEnds(limit: number, since?: Date): Promise<UnwrittenEnds> {
    return this.store.unwrittenRuleEnds(limit, since);
  }

  async get(id: string): Promise<PipelineView | undefined> {
    const row = await this.store.get(id);
    return row ? this.view(row) : undefined;
  }

  /** Newest first, of `status` only when given; each with its steps' tasks (one read for the page). */
  async list(limit: number, offset: number, status?: PipelineStatus): Promise<PipelineView[]> {
    const rows = await this.store.list(limit, offset, status);
    const tasks = await this.tasksById(rows.flatMap((row) => row.task_ids));
    return rows.map((row) => toView(row, tasks));
  }

  /** Cancels every step not ended yet; returns the ids of the tasks cancelled (undefined: no such pipeline). */
  async cancel(id: string, reason = "pipeline cancelled"): Promise<string[] | undefined> {
    const pipeline = await this.get(id);
    if (!pipeline) return undefined;
    const cancelled: string[] = [];
    // Later steps first: a step cancelled before the one it waits for is never started by its end.
    for (const step of inDependencyOrder(pipeline.steps).reverse()) {
      if ((step.status === "pending" || step.status === "running") && (await this.manager.cancelTask(step.taskId, reason))) cancelled.push(step.taskId);
    }
    return cancelled;
  }

  /**
   * Queues again every step that failed or was cancelled, each after the steps it waits for (so
   * that none is cancelled again for a dependency not yet retried); the steps after them wait as
   * before. Returns the ids queued again (undefined: no such pipeline).
   */
  async retry(id: string): Promise<string[] | undefined> {
    const pipeline = await this.get(id);
    if (!pipeline) return undefined;
    const retried: string[] = [];
    for (const step of inDependencyOrder(pipeline.steps)) {
      if ((step.status === "failed" || step.status === "cancelled") && (await this.manager.retryTask(step.taskId))) retried.push(step.taskId);
    }
    return retried;
  }

  private async view(row: PipelineRow): Promise<PipelineView> {
    return toView(row, await this.tasksById(row.task_ids));
  }

  private async tasksById(ids: readonly string[]): Promise<Map<string, Task & { runtime: TaskRuntime }>> {
    const rows = await this.store.tasks(ids);
    return new Map(rows.map((row) => [row.id, { ...rowToTask(row), runtime: rowRuntime(row) }]));
  }
}

function toView(row: PipelineRow, tasks: ReadonlyMap<string, Task & { runtime: TaskRuntime }>): PipelineView {
  const steps = row.steps.map((step): PipelineStepView => {
    const task = tasks.get(step.taskId);
    return { name: step.name, after: step.after, taskId: step.taskId, status: task?.status ?? "removed", awaitingDecision: task !== undefined && awaitsDecision(task), task };
  });
  const conditions = steps.map((s): StepCondition => (s.awaitingDecision ? "awaiting_decision" : s.status));
  const by = steps.map((s) => s.task?.source?.by).find((name) => name !== undefined);
  return { id: row.id, title: row.title, origin: row.origin, idempotencyKey: row.idempotency_key, createdAt: row.created_at, status: pipelineStatus(conditions), steps, ...(by !== undefined ? { by } : {}) };
}

/**
 * What a pipeline's status needs of a step: its task's status, "removed" when the retention
 * cleanup removed it, "awaiting_decision" for a pending approval asked for and not decided.
 */
export type StepCondition = TaskStatus | "removed" | "awaiting_decision";

/**
 * A pipeline's status from its steps' (a removed step counts as completed: failed tasks are kept
 * longer). The SQL twin is pipeline-status-sql.ts. A caller that knows no decisions (the webhook
 * announcer) passes plain statuses: awaiting_approval then reads as running or pending, which it
 * announces alike — nothing.
 */
export function pipelineStatus(conditions: readonly StepCondition[]): PipelineStatus {
  const has = (condition: StepCondition) => conditions.includes(condition);
  const unfinished = has("pending") || has("running") || has("awaiting_decision");
  if (!unfinished) return has("failed") ? "failed" : has("cancelled") ? "cancelled" : "completed";
  if (has("running")) return "running";
  if (has("failed") || has("cancelled")) return "blocked";
  if (has("awaiting_decision")) return "awaiting_approval";
  return has("completed") || has("removed") ? "running" : "pending";
}

/** The steps, each after those it waits for (the links have no cycle: checked when created). */
function inDependencyOrder<T extends { name: string; after: string[] }>(steps: readonly T[]): T[] {
  const byName = new Map(steps.map((step) => [step.name, step]));
  const ordered: T[] = [];
  const seen = new Set<string>();
  const visit = (step: T) => {
    if (seen.has(step.name)) return;
    seen.add(step.name);
    for (const name of step.after) {
      const before = byName.get(name);
      if (before) visit(before);
    }
    ordered.push(step);
  };
  steps.forEach(visit);
  return ordered;
}
