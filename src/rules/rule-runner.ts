/**
 * Trigger rules at work (tasks.config.json, see trigger-rules.ts): which operations of any document
 * start which tasks, and what a rule's task writes back to its document when it ends. Loop
 * protection: a person's operation must come from an authorised writer; an operation a rule's
 * result wrote carries the chain depth one further, and the loop guard refuses past the limit.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Action, Operation, PHDocument } from "document-model";
import { createAction } from "document-model/core";
import type { Logger } from "../logger.js";
import type { DocumentDirectory } from "../reactor/document-directory.js";
import type { LoopGuard } from "../tasks/loop-guard.js";
import type { TaskManager } from "../tasks/task-manager.js";
import type { JsonValue, Task, TaskSource } from "../tasks/types.js";
import { formatFieldErrors, isPlainObject, ValidationError } from "../validation.js";
import type { Rule } from "./rules-schema.js";
import { buildResultAction, buildTaskRequest, ruleMatches, type ResultContext, type TriggerContext } from "./trigger-rules.js";
import { fillTemplate } from "./template.js";
import { pipelineIn } from "../pipelines/pipeline-in-task.js";
import type { PipelineService } from "../pipelines/pipeline-service.js";
import { pipelineIdOf } from "../store/sql/pipelines/pipeline-row.js";
import type { PipelineView } from "../pipelines/pipeline-service.js";
import type { RuleResultStore } from "../store/rule-result-store.js";

export interface RuleRunnerDeps {
  manager: TaskManager;
  reactor: IDocumentDriveServer;
  directory: DocumentDirectory;
  guard: LoopGuard;
  rules: readonly Rule[];
  logger: Logger;
  /** Why this operation may not start work (TASK_AUTHORIZED_WRITERS), if it may not. */
  writerRefusal: (documentId: string, action: Action | undefined) => Promise<{ code: string; message: string } | undefined>;
  /** Rules whose task is `{ "pipeline": {...} }` make pipelines here; absent: such rules are refused when they match. */
  pipelines?: PipelineService | undefined;
  /** Where a rule task's end is taken for writing back, once, and found by the sweep when its worker stopped first. */
  ruleResults?: RuleResultStore | undefined;
}

export class RuleRunner {
  /** Actions the agent wrote as a rule's result mapping, with the chain depth they carry. */
  private readonly resultActions = new Map<string, number>();

  constructor(private readonly deps: RuleRunnerDeps) {}

  /** Whether the agent wrote this action as a rule's result (it may trigger rules, one level deeper). */
  wroteResult(actionId: string): boolean {
    return this.resultActions.has(actionId);
  }

  /** The chain depth an operation carries (0: a person's), forgotten once read. */
  takeChainDepth(actionId: string): number {
    const depth = this.resultActions.get(actionId) ?? 0;
    this.resultActions.delete(actionId);
    return depth;
  }

  async applyRules(documentId: string, documentType: string, op: Operation, depth: number): Promise<Task[]> {
    const operation = { id: op.id, type: op.action.type, index: op.index };
    // Filters on the input and the operation alone are checked before the document is read.
    const light = { input: op.action.input, document: { id: documentId, type: documentType }, operation };
    const matching = this.deps.rules.filter(
      (rule) =>
        rule.on.documentType === documentType &&
        rule.on.operationType === op.action.type &&
        (Object.keys(rule.on.where).some((path) => path.startsWith("document.")) || ruleMatches(rule, documentType, op.action.type, light)),
    );
    if (matching.length === 0) return [];
    // A rule's own result (depth > 0) was written by the agent; a person's operation must be authorised.
    const refusal = depth === 0 ? await this.deps.writerRefusal(documentId, op.action) : undefined;
    if (refusal) {
      this.deps.logger.warn({ documentId, operation: op.action.type, code: refusal.code, rules: matching.map((r) => r.name) }, `trigger ignored: ${refusal.message}`);
      return [];
    }
    const document = await this.deps.reactor.getDocument<PHDocument>(documentId);
    const driveId = await this.deps.directory.driveOf(documentId);
    const context: TriggerContext = {
      input: op.action.input,
      document: { id: documentId, type: documentType, name: document.header.name, ...(driveId ? { driveId } : {}), state: (document.state as { global?: unknown }).global },
      operation,
    };
    const tasks: Task[] = [];
    for (const rule of matching) {
      if (!ruleMatches(rule, documentType, op.action.type, context)) continue;
      const key = `rule:${rule.name}:${documentId}:${op.id}`;
      const source = { documentId, documentType, ...(driveId ? { driveId } : {}), operationId: op.id, operationType: op.action.type, chainDepth: depth, origin: `rule:${rule.name}` };
      const pipeline = pipelineIn(rule.task);
      if (pipeline !== undefined) {
        tasks.push(...(await this.startPipeline(rule, fillTemplate(pipeline, context), key, source)));
        continue;
      }
      const request = { ...buildTaskRequest(rule, context), idempotencyKey: key, source };
      const refusal = this.deps.guard.admit(documentId, depth, Date.now(), driveId || undefined);
      try {
        if (refusal) {
          await this.deps.manager.rejectTask(request, refusal);
          continue;
        }
        tasks.push(await this.enqueue(rule, request));
      } catch (error) {
        // A task the policy refuses (admission) is recorded as refused, visible like a loop guard's refusal.
        if (error instanceof ValidationError && (await this.refused(request, error))) continue;
        this.deps.logger.error({ err: error, rule: rule.name, documentId }, "a trigger rule produced an invalid task");
      }
    }
    return tasks;
  }

  /** A rule's task, stored with the row its end is taken through (when it has an onResult to write). */
  private async enqueue(rule: Rule, request: Record<string, unknown>): Promise<Task> {
    const { ruleResults, manager } = this.deps;
    if (!ruleResults || !rule.onResult) return (await manager.enqueueTask(request)).task;
    const [stored] = await manager.enqueueTasks([request], { within: (tx, rows) => ruleResults.insert(tx, rows.map((row) => row.id)) });
    return stored!.task;
  }

  /** Records a rule's task that was refused as cancelled with the reason; false when even that is refused (an invalid request). */
  private async refused(request: Record<string, unknown>, error: ValidationError): Promise<boolean> {
    const message = `refused: ${formatFieldErrors(error.errors, "; ")}`;
    try {
      await this.deps.manager.rejectTask(request, { kind: "fatal", code: "invalid_task", message });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A rule's pipeline, each step's task linked to the document (its source: no task document is
   * made for it, its end goes back through the rule's onResult once every step has ended). The
   * loop guard counts the pipeline as one start of the document; a pipeline refused is logged
   * with every field's problem, nothing stored.
   */
  private async startPipeline(rule: Rule, filled: unknown, key: string, source: TaskSource & { documentId: string }): Promise<Task[]> {
    const log = { rule: rule.name, documentId: source.documentId };
    if (!this.deps.pipelines) {
      this.deps.logger.error(log, "a trigger rule asks for a pipeline, and pipelines are not available here");
      return [];
    }
    const refusal = this.deps.guard.admit(source.documentId, source.chainDepth, Date.now(), source.driveId);
    if (refusal) {
      this.deps.logger.warn({ ...log, code: refusal.code }, `a trigger rule's pipeline was not started: ${refusal.message}`);
      return [];
    }
    const request = isPlainObject(filled) ? { ...filled, idempotencyKey: key } : filled;
    try {
      const { pipeline } = await this.deps.pipelines.create(request, source.origin ?? "rule", source);
      return pipeline.steps.flatMap((step) => (step.task ? [step.task] : []));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      this.deps.logger.error({ ...log, errors: error.errors }, `a trigger rule's pipeline was refused: ${formatFieldErrors(error.errors, "; ")}`);
      return [];
    }
  }

  async applyResultMapping(task: Task, ruleName: string, result: JsonValue | null): Promise<void> {
    const rule = this.deps.rules.find((r) => r.name === ruleName);
    const documentId = task.source?.documentId;
    if (!rule || !documentId) return;
    if (pipelineIn(rule.task) !== undefined) return this.applyPipelineResult(task, rule, documentId);
    // Taken before it is written: the sweep and this worker may both see the end; one writes it.
    if (rule.onResult && this.deps.ruleResults && !(await this.deps.ruleResults.take(task.id, task.status))) return;
    await this.writeResult(rule, task, documentId, { task: { id: task.id, status: task.status, attempts: task.attempts }, result, error: task.error ?? null });
  }

  /**
   * A step of a rule's pipeline ended: when it was the last (the pipeline completed, failed or was
   * cancelled), the rule's onResult is written, once — whichever worker ended the last step, and
   * again after a retry. Its context: `pipeline` (id, title, status, steps by name with status,
   * result, error), `result` (each step's result by name), `error` (the first failed step's).
   */
  private async applyPipelineResult(task: Task, rule: Rule, documentId: string): Promise<void> {
    const pipelineId = pipelineIdOf(task);
    const view = pipelineId ? await this.deps.pipelines?.get(pipelineId) : undefined;
    if (view?.steps.some((step) => step.taskId === task.id)) await this.writePipelineEnd(view, task, rule, documentId);
  }

  /** The end of `view` (if it has ended) taken and written back through `rule`, `task` one of its steps. */
  private async writePipelineEnd(view: PipelineView, task: Task, rule: Rule | undefined, documentId: string): Promise<void> {
    const { pipelines } = this.deps;
    if (!pipelines || !["completed", "failed", "cancelled"].includes(view.status)) return;
    // Taken even when nothing is to be written (no onResult for this end, the rule gone): the end is handled.
    if (!(await pipelines.takeWrittenStatus(view.id, view.status)) || !rule) return;
    const steps = Object.fromEntries(view.steps.map((step) => [step.name, { status: step.status, result: step.task?.result ?? null, error: step.task?.error ?? null }]));
    const failed = view.steps.find((step) => step.task?.status === "failed")?.task?.error ?? null;
    const ended = { task: { id: view.id, status: view.status, attempts: 0 }, result: Object.fromEntries(view.steps.map((step) => [step.name, step.task?.result ?? null])), error: failed, pipeline: { id: view.id, title: view.title, status: view.status, steps } };
    await this.writeResult(rule, task, documentId, ended);
  }

  /**
   * Rules' tasks and pipelines that ended and whose end no worker wrote back — the one that ended
   * it (the last step) stopped before it could — are written now. Runs beside the task documents'
   * catch-up; each half only where a rule could have made such work. Returns how many were found.
   */
  async sweepResults(limit = 20): Promise<number> {
    return (await this.sweepTasks(limit)) + (await this.sweepPipelines(limit));
  }

  /** A rule's single tasks: through a partial index of those whose end is not written yet (migration 033). */
  private async sweepTasks(limit: number): Promise<number> {
    const { ruleResults, rules, manager } = this.deps;
    if (!ruleResults || !rules.some((rule) => rule.onResult && pipelineIn(rule.task) === undefined)) return 0;
    const ids = await ruleResults.unwritten(limit);
    for (const id of ids) {
      const task = await manager.getTask(id);
      if (!task) continue; // removed meanwhile (retention): its row went with it
      const origin = task.source?.origin ?? "";
      const rule = origin.startsWith("rule:") ? rules.find((r) => r.name === origin.slice(5)) : undefined;
      // Its rule gone or changed (no onResult, a pipeline now): nothing can be written; mark it handled.
      if (!rule?.onResult || pipelineIn(rule.task) !== undefined || !task.source?.documentId) await ruleResults.take(id, task.status);
      else await this.applyResultMapping(task, rule.name, task.result ?? null);
    }
    return ids.length;
  }

  private async sweepPipelines(limit: number): Promise<number> {
    const { pipelines, rules } = this.deps;
    if (!pipelines || !rules.some((rule) => pipelineIn(rule.task) !== undefined)) return 0;
    const ids = await pipelines.unwrittenRuleEnds(limit);
    for (const id of ids) {
      const view = await pipelines.get(id);
      const step = view?.steps.find((s) => s.task?.source?.documentId)?.task;
      const documentId = step?.source?.documentId;
      // No step left to say which document (all removed): nothing can be written; mark it handled.
      if (!view || !step || !documentId) {
        if (view) await pipelines.takeWrittenStatus(view.id, view.status);
        continue;
      }
      await this.writePipelineEnd(view, step, rules.find((rule) => `rule:${rule.name}` === view.origin), documentId);
    }
    return ids.length;
  }

  /** Writes the rule's onResult operation for `ended`, when its mapping has one for that end. */
  private async writeResult(rule: Rule, task: Task, documentId: string, ended: Omit<ResultContext, keyof TriggerContext>): Promise<void> {
    const document = await this.deps.reactor.getDocument<PHDocument>(documentId);
    const context: ResultContext = {
      input: {},
      document: { id: documentId, type: document.header.documentType, name: document.header.name, state: (document.state as { global?: unknown }).global },
      operation: { id: task.source?.operationId ?? "", type: task.source?.operationType ?? "", index: -1 },
      ...ended,
    };
    const mapped = buildResultAction(rule, context);
    if (!mapped) return;
    const action = createAction<Action>(mapped.type, mapped.input, undefined, undefined, mapped.scope);
    // What this write triggers is one step further down the chain.
    this.resultActions.set(action.id, (task.source?.chainDepth ?? 0) + 1);
    const outcome = await this.deps.reactor.addAction(documentId, action);
    const refused = outcome.operations.find((op) => op.error);
    if (refused || outcome.status !== "SUCCESS") {
      this.deps.logger.warn({ documentId, rule: rule.name, operation: mapped.type, error: refused?.error ?? outcome.error?.message }, "the document refused a rule's result operation");
    }
  }
}
