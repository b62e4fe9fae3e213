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
import type { JsonValue, Task } from "../tasks/types.js";
import { formatFieldErrors, ValidationError } from "../validation.js";
import type { Rule } from "./rules-schema.js";
import { buildResultAction, buildTaskRequest, ruleMatches, type TriggerContext } from "./trigger-rules.js";

export interface RuleRunnerDeps {
  manager: TaskManager;
  reactor: IDocumentDriveServer;
  directory: DocumentDirectory;
  guard: LoopGuard;
  rules: readonly Rule[];
  logger: Logger;
  /** Why this operation may not start work (TASK_AUTHORIZED_WRITERS), if it may not. */
  writerRefusal: (documentId: string, action: Action | undefined) => Promise<{ code: string; message: string } | undefined>;
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
      const request = {
        ...buildTaskRequest(rule, context),
        idempotencyKey: `rule:${rule.name}:${documentId}:${op.id}`,
        source: { documentId, documentType, ...(driveId ? { driveId } : {}), operationId: op.id, operationType: op.action.type, chainDepth: depth, origin: `rule:${rule.name}` },
      };
      const refusal = this.deps.guard.admit(documentId, depth, Date.now(), driveId || undefined);
      try {
        if (refusal) {
          await this.deps.manager.rejectTask(request, refusal);
          continue;
        }
        tasks.push((await this.deps.manager.enqueueTask(request)).task);
      } catch (error) {
        // A task the policy refuses (admission) is recorded as refused, visible like a loop guard's refusal.
        if (error instanceof ValidationError && (await this.refused(request, error))) continue;
        this.deps.logger.error({ err: error, rule: rule.name, documentId }, "a trigger rule produced an invalid task");
      }
    }
    return tasks;
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

  async applyResultMapping(task: Task, ruleName: string, result: JsonValue | null): Promise<void> {
    const rule = this.deps.rules.find((r) => r.name === ruleName);
    const documentId = task.source?.documentId;
    if (!rule || !documentId) return;
    const document = await this.deps.reactor.getDocument<PHDocument>(documentId);
    const context = {
      input: {},
      document: { id: documentId, type: document.header.documentType, name: document.header.name, state: (document.state as { global?: unknown }).global },
      operation: { id: task.source?.operationId ?? "", type: task.source?.operationType ?? "", index: -1 },
      task: { id: task.id, status: task.status, attempts: task.attempts },
      result,
      error: task.error ?? null,
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
