/**
 * A trigger rule's onResult written back to the document that asked — at least once, and not
 * twice (migration 034). The writer takes the end with a lease, writes, then marks it written; the
 * sweep (every agent with such rules, beside the task documents' catch-up) takes the ends nobody
 * holds: never taken (the worker that ended the task stopped first) or taken by a writer whose
 * lease ran out (it stopped between taking and writing, or between writing and marking) — the
 * ends since its last look, and every few minutes all of them (sweep-cursor.ts). The
 * operation carries an action id made from the task (or pipeline) and the end it reports, so a
 * writer that finds that id in the document's history already only marks the end written.
 */
import { createHash } from "node:crypto";
import { DocumentNotFoundError, type IDocumentDriveServer } from "document-drive";
import type { Operation, PHDocument } from "document-model";
import { createAction } from "document-model/core";
import type { Logger } from "../logger.js";
import { pipelineIn } from "../pipelines/pipeline-in-task.js";
import { pipelineHasEnded, type PipelineService, type PipelineView } from "../pipelines/pipeline-service.js";
import type { RuleResultStore } from "../store/rule-result-store.js";
import { pipelineIdOf } from "../store/sql/pipelines/pipeline-row.js";
import type { TaskManager } from "../tasks/task-manager.js";
import type { JsonValue, Task } from "../tasks/types.js";
import type { Rule } from "./rules-schema.js";
import { SweepCursor } from "./sweep-cursor.js";
import { buildResultAction, type ResultContext, type TriggerContext } from "./trigger-rules.js";

/** How long a writer holds an end it took before the sweep may take it (it stopped, or hangs). */
export const WRITE_BACK_LEASE_MS = 30_000;

export interface ResultWriteBackDeps {
  manager: TaskManager;
  reactor: IDocumentDriveServer;
  rules: readonly Rule[];
  logger: Logger;
  pipelines?: PipelineService | undefined;
  ruleResults?: RuleResultStore | undefined;
  /** Told each action written, before it is applied, with the chain depth what it triggers carries and who asked for the task whose result it is. */
  wrote: (actionId: string, depth: number, by: string | undefined) => void;
  leaseMs?: number | undefined;
  /** How often the sweep looks at every end not written, not only those since its last look (sweep-cursor.ts). */
  fullLookEveryMs?: number | undefined;
}

/** What an end's operation is filled from, besides the document. */
type Ended = Omit<ResultContext, keyof TriggerContext>;

/** The action id of the operation that writes back end `mark` of `subject` (a task's or pipeline's id): the same for every writer of that end. */
export function resultActionId(subject: string, mark: string): string {
  const hex = createHash("sha256").update(`rule-result\0${subject}\0${mark}`).digest("hex");
  // Shaped as a UUID (version 8: made by a custom scheme), as action ids usually are.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

export class ResultWriteBack {
  private readonly taskCursor: SweepCursor;
  private readonly pipelineCursor: SweepCursor;

  constructor(private readonly deps: ResultWriteBackDeps) {
    this.taskCursor = new SweepCursor(deps.fullLookEveryMs);
    this.pipelineCursor = new SweepCursor(deps.fullLookEveryMs);
  }

  private get leaseMs(): number {
    return this.deps.leaseMs ?? WRITE_BACK_LEASE_MS;
  }

  /** A rule's task ended (on this worker): its end written back through the rule's onResult, when it has one. */
  async taskEnded(task: Task, ruleName: string, result: JsonValue | null): Promise<void> {
    const rule = this.deps.rules.find((r) => r.name === ruleName);
    const documentId = task.source?.documentId;
    if (!rule || !documentId) return;
    if (pipelineIn(rule.task) !== undefined) return this.stepEnded(task, rule, documentId);
    if (!rule.onResult) return;
    const ended: Ended = { task: { id: task.id, status: task.status, attempts: task.attempts }, result, error: task.error ?? null };
    const { ruleResults } = this.deps;
    // Without the store's rows (no leases), written as it ends: at most once.
    if (!ruleResults) return void (await this.write(rule, task, documentId, ended, undefined));
    const mark = await ruleResults.take(task.id, task.status, this.leaseMs);
    if (mark === undefined) return; // written, or held by another writer
    await this.writeHeld(rule, task, documentId, ended, resultActionId(task.id, mark), () => ruleResults.markWritten(task.id, task.status, mark));
  }

  /**
   * A step of a rule's pipeline ended: when it was the last (the pipeline completed, failed or was
   * cancelled), the rule's onResult is written, once — whichever worker ended the last step, and
   * again after a retry. Its context: `pipeline` (id, title, status, steps by name with status,
   * result, error), `result` (each step's result by name), `error` (the first failed step's).
   */
  private async stepEnded(task: Task, rule: Rule, documentId: string): Promise<void> {
    const pipelineId = pipelineIdOf(task);
    const view = pipelineId ? await this.deps.pipelines?.get(pipelineId) : undefined;
    if (view?.steps.some((step) => step.taskId === task.id)) await this.pipelineEnded(view, task, rule, documentId);
  }

  /** The end of `view` (if it has ended) taken and written back through `rule`, `task` one of its steps. */
  private async pipelineEnded(view: PipelineView, task: Task, rule: Rule | undefined, documentId: string): Promise<void> {
    const { pipelines } = this.deps;
    if (!pipelines || !pipelineHasEnded(view.status)) return;
    const mark = await pipelines.takeWrittenStatus(view.id, view.status, this.leaseMs);
    if (mark === undefined) return;
    const done = () => pipelines.markWritten(view.id, view.status, mark);
    // The rule gone, or no onResult: nothing to write, and the end is handled.
    if (!rule?.onResult) return done();
    const steps = Object.fromEntries(view.steps.map((step) => [step.name, { status: step.status, result: step.task?.result ?? null, error: step.task?.error ?? null }]));
    const failed = view.steps.find((step) => step.task?.status === "failed")?.task?.error ?? null;
    const ended: Ended = { task: { id: view.id, status: view.status, attempts: 0 }, result: Object.fromEntries(view.steps.map((step) => [step.name, step.task?.result ?? null])), error: failed, pipeline: { id: view.id, title: view.title, status: view.status, steps } };
    await this.writeHeld(rule, task, documentId, ended, resultActionId(view.id, mark), done);
  }

  /**
   * Writes an end this writer holds, then marks it written — also when there was nothing to write,
   * the document refused it or is gone (trying again would change nothing). Any other failure (the
   * reactor) leaves it held: the sweep tries again when the lease runs out.
   */
  private async writeHeld(rule: Rule, task: Task, documentId: string, ended: Ended, actionId: string, markWritten: () => Promise<void>): Promise<void> {
    try {
      await this.write(rule, task, documentId, ended, actionId);
    } catch (error) {
      if (!(error instanceof DocumentNotFoundError)) throw error;
      this.deps.logger.warn({ documentId, rule: rule.name, taskId: task.id }, "a rule's result was not written back: its document is gone");
    }
    await markWritten();
  }

  /**
   * Rules' tasks and pipelines that ended and whose end no worker wrote back — the one that ended
   * it (the last step) stopped before it could, or before it said so — are written now. Each half
   * only where a rule could have made such work. Returns how many were found.
   */
  async sweep(limit = 20): Promise<number> {
    return (await this.sweepTasks(limit)) + (await this.sweepPipelines(limit));
  }

  /** A rule's single tasks whose end is not written yet (sweep-cursor.ts: from where). */
  private async sweepTasks(limit: number): Promise<number> {
    const { ruleResults, rules, manager } = this.deps;
    if (!ruleResults || !rules.some((rule) => rule.onResult && pipelineIn(rule.task) === undefined)) return 0;
    const from = this.taskCursor.from();
    const { ids, at } = await ruleResults.unwritten(limit, from);
    for (const id of ids) {
      const task = await manager.getTask(id);
      if (!task) continue; // removed meanwhile (retention): its row went with it
      const origin = task.source?.origin ?? "";
      const rule = origin.startsWith("rule:") ? rules.find((r) => r.name === origin.slice(5)) : undefined;
      // Its rule gone or changed (no onResult, a pipeline now): nothing can be written; mark it handled.
      if (!rule?.onResult || pipelineIn(rule.task) !== undefined || !task.source?.documentId) await ruleResults.markWritten(id, task.status);
      else await this.taskEnded(task, rule.name, task.result ?? null);
    }
    this.taskCursor.looked(from, ids.length, limit, at);
    return ids.length;
  }

  /** Rules' pipelines whose end is not written yet (sweep-cursor.ts: from where). */
  private async sweepPipelines(limit: number): Promise<number> {
    const { pipelines, rules } = this.deps;
    if (!pipelines || !rules.some((rule) => pipelineIn(rule.task) !== undefined)) return 0;
    const from = this.pipelineCursor.from();
    const { ids, at } = await pipelines.unwrittenRuleEnds(limit, from);
    for (const id of ids) {
      const view = await pipelines.get(id);
      const step = view?.steps.find((s) => s.task?.source?.documentId)?.task;
      const documentId = step?.source?.documentId;
      // No step left to say which document (all removed): nothing can be written; mark it handled.
      if (!view || !step || !documentId) {
        if (view) await pipelines.markWritten(view.id, view.status);
        continue;
      }
      await this.pipelineEnded(view, step, rules.find((rule) => `rule:${rule.name}` === view.origin), documentId);
    }
    this.pipelineCursor.looked(from, ids.length, limit, at);
    return ids.length;
  }

  /**
   * Writes the rule's onResult operation for `ended`, when its mapping has one for that end — as
   * action `actionId` when given, and not at all when the document's history holds that action
   * already (written by a writer that stopped before it marked the end written).
   */
  private async write(rule: Rule, task: Task, documentId: string, ended: Ended, actionId: string | undefined): Promise<void> {
    const document = await this.deps.reactor.getDocument<PHDocument>(documentId);
    const context: ResultContext = {
      input: {},
      document: { id: documentId, type: document.header.documentType, name: document.header.name, state: (document.state as { global?: unknown }).global },
      operation: { id: task.source?.operationId ?? "", type: task.source?.operationType ?? "", index: -1 },
      ...ended,
    };
    const mapped = buildResultAction(rule, context);
    if (!mapped) return;
    const scope = mapped.scope ?? "global";
    if (actionId !== undefined && (document.operations[scope] ?? []).some((op: Operation) => op.action.id === actionId)) {
      this.deps.logger.info({ documentId, rule: rule.name, actionId }, "a rule's result was written back already (before its writer stopped); not written again");
      return;
    }
    const action = createAction(mapped.type, mapped.input, undefined, undefined, scope);
    if (actionId !== undefined) action.id = actionId;
    // What this write triggers is one step further down the chain.
    this.deps.wrote(action.id, (task.source?.chainDepth ?? 0) + 1, task.source?.by);
    const outcome = await this.deps.reactor.addAction(documentId, action);
    const refused = outcome.operations.find((op) => op.error);
    if (refused || outcome.status !== "SUCCESS") {
      this.deps.logger.warn({ documentId, rule: rule.name, operation: mapped.type, error: refused?.error ?? outcome.error?.message }, "the document refused a rule's result operation");
    }
  }
}
