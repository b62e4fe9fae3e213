/**
 * Trigger rules at work (tasks.config.json, see trigger-rules.ts): which operations of any document
 * start which tasks, and what a rule's task writes back to its document when it ends. Loop
 * protection: a person's operation must come from an authorised writer; an operation a rule's
 * result wrote carries the chain depth one further, and the loop guard refuses past the limit.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Action, Operation, PHDocument } from "document-model";
import type { Logger } from "../logger.js";
import type { DocumentDirectory } from "../reactor/document-directory.js";
import type { LoopGuard } from "../tasks/loop-guard.js";
import type { TaskManager } from "../tasks/task-manager.js";
import type { JsonValue, Task, TaskSource } from "../tasks/types.js";
import { formatFieldErrors, isPlainObject, ValidationError } from "../validation.js";
import type { Rule } from "./rules-schema.js";
import { buildTaskRequest, ruleMatches, type TriggerContext } from "./trigger-rules.js";
import { fillTemplate } from "./template.js";
import { pipelineIn } from "../pipelines/pipeline-in-task.js";
import type { PipelineService } from "../pipelines/pipeline-service.js";
import type { RuleResultStore } from "../store/rule-result-store.js";
import { ResultWriteBack } from "./result-write-back.js";

/** Where an operation stands in a chain of rules: how deep (0: a person's), and who asked for the chain's first task. */
export interface RuleChain {
  depth: number;
  by?: string;
}

export interface RuleRunnerDeps {
  manager: TaskManager;
  reactor: IDocumentDriveServer;
  directory: DocumentDirectory;
  guard: LoopGuard;
  rules: readonly Rule[];
  logger: Logger;
  /** Why this operation may not start work (TASK_AUTHORIZED_WRITERS), if it may not. */
  writerRefusal: (documentId: string, action: Action | undefined) => Promise<{ code: string; message: string } | undefined>;
  /** The name the operation's writer is known by (a named key of TASK_AUTHORIZED_WRITERS that signed it); undefined: no one proven. */
  provenWriter?: ((action: Action | undefined) => string | undefined) | undefined;
  /** Rules whose task is `{ "pipeline": {...} }` make pipelines here; absent: such rules are refused when they match. */
  pipelines?: PipelineService | undefined;
  /** Where a rule task's end is taken for writing back, and found by the sweep when its worker stopped first. */
  ruleResults?: RuleResultStore | undefined;
  /** How long a writer holds a rule's end it took (WRITE_BACK_LEASE_MS by default). */
  writeBackLeaseMs?: number | undefined;
}

export class RuleRunner {
  /** Actions the agent wrote as a rule's result mapping, with the chain depth they carry and who asked for the chain's first task. */
  private readonly resultActions = new Map<string, RuleChain>();

  private readonly writeBack: ResultWriteBack;

  constructor(private readonly deps: RuleRunnerDeps) {
    this.writeBack = new ResultWriteBack({ ...deps, leaseMs: deps.writeBackLeaseMs, wrote: (actionId, depth, by) => this.resultActions.set(actionId, by === undefined ? { depth } : { depth, by }) });
  }

  /** Whether the agent wrote this action as a rule's result (it may trigger rules, one level deeper). */
  wroteResult(actionId: string): boolean {
    return this.resultActions.has(actionId);
  }

  /** The chain an operation belongs to — its depth (0: a person's) and who asked for its first task — forgotten once read. */
  takeChain(actionId: string): RuleChain {
    const chain = this.resultActions.get(actionId) ?? { depth: 0 };
    this.resultActions.delete(actionId);
    return chain;
  }

  async applyRules(documentId: string, documentType: string, op: Operation, chain: RuleChain): Promise<Task[]> {
    const { depth } = chain;
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
    // Who made the change, as proven: their rule's tasks are theirs (spend, budget per person, list --by), and so are those a rule's result sets off, down the chain.
    const by = depth === 0 ? this.deps.provenWriter?.(op.action) : chain.by;
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
      const source = { documentId, documentType, ...(driveId ? { driveId } : {}), operationId: op.id, operationType: op.action.type, chainDepth: depth, origin: `rule:${rule.name}`, ...(by !== undefined ? { by } : {}) };
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

  /** A rule's task ended on this worker: its end written back to its document (see result-write-back.ts). */
  applyResultMapping(task: Task, ruleName: string, result: JsonValue | null): Promise<void> {
    return this.writeBack.taskEnded(task, ruleName, result);
  }

  /**
   * Rules' tasks and pipelines whose end no worker wrote back (it stopped first) are written now.
   * Runs beside the task documents' catch-up. Returns how many were found.
   */
  sweepResults(limit = 20): Promise<number> {
    return this.writeBack.sweep(limit);
  }
}
