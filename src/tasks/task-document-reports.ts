/**
 * A task's life as its task document tells it: started, live output, retrying, and its end (status,
 * output tail, result) — written by the worker that runs the task, as the manager's events come.
 * A step of a pipeline that a task document asked for reports to the pipeline's progress instead
 * (pipeline-documents.ts): the document follows the pipeline, not the step.
 */
import type { TaskDocumentWriter } from "../reactor/document-writer.js";
import { actions } from "../reactor/task-document/actions.js";
import { TASK_DOCUMENT_TYPE } from "../reactor/task-document/state.js";
import { finalAction, isTerminal, outputOfResult } from "./document-updates.js";
import { approversOf, requiredApprovals } from "./executors/approval-executor.js";
import { documentPipelineOf, type PipelineDocuments } from "./pipeline-documents.js";
import type { JsonValue, Task, TaskError } from "./types.js";
import type { WaitingReason } from "./waiting-reason.js";

export const now = (): string => new Date().toISOString();

/** The task document a task reports to, if it came from one. */
export function taskDocumentOf(task: Task): string | undefined {
  return task.source?.documentType === TASK_DOCUMENT_TYPE ? task.source.documentId : undefined;
}

export class TaskDocumentReports {
  constructor(
    private readonly writer: TaskDocumentWriter,
    private readonly pipelineDocuments: PipelineDocuments | undefined,
  ) {}

  async started(task: Task, info: { workerId: string; attempt: number }): Promise<void> {
    const documentId = taskDocumentOf(task);
    if (!documentId) return;
    if (await this.followedPipeline(documentId, task)) return;
    return this.writer.write(documentId, "running", (s) => {
      if (s.currentTaskId !== task.id || isTerminal(s)) return undefined;
      if (s.status === "running" && s.attempts === info.attempt) return undefined;
      return actions.markRunning({ taskId: task.id, attempt: info.attempt, workerId: info.workerId, startedAt: now() });
    });
  }

  output(task: Task, text: string): void {
    const documentId = taskDocumentOf(task);
    // A pipeline's step writes no live output to the document that asked for the pipeline.
    if (documentId && !documentPipelineOf(task)) this.writer.appendOutput(documentId, task.id, text);
  }

  async retrying(task: Task, info: { attempt: number; delayMs: number; error: TaskError }): Promise<void> {
    const documentId = taskDocumentOf(task);
    if (!documentId || documentPipelineOf(task)) return;
    await this.writer.flushOutput(task.id);
    await this.writer.write(documentId, "retrying", (s) =>
      s.currentTaskId === task.id && !isTerminal(s) ? actions.markRetrying({ taskId: task.id, attempt: info.attempt, error: { code: info.error.code, message: info.error.message }, retryInMs: info.delayMs, at: now() }) : undefined,
    );
  }

  /**
   * An approval now waits for a person (approvals.ts): its document says how to decide — or, for a
   * step of a pipeline a document asked for, that document says which step waits.
   */
  async awaitingApproval(task: Task): Promise<void> {
    const documentId = taskDocumentOf(task);
    if (!documentId) return;
    const step = documentPipelineOf(task) !== undefined;
    const message = step
      ? `step "${task.title}" waits for a person's decision: ph-tasks approve ${task.id} (or reject), or APPROVE / REJECT on its task`
      : `waits for a person's decision: APPROVE or REJECT this document (or ph-tasks approve ${task.id})`;
    const approvers = approversOf(task);
    const required = requiredApprovals(task);
    const who = !approvers ? message : required > 1 ? `${message}; ${required} of ${approvers.join(", ")} must approve it (one rejection rejects it)` : `${message}; only ${approvers.join(", ")} may decide it`;
    await this.writer.write(documentId, "notice", (s) => (!isTerminal(s) && (step || s.currentTaskId === task.id) ? actions.addNotice({ level: "info", message: who, at: now() }) : undefined));
  }

  /**
   * A task waits a while for a budget — sent back as it was claimed (its drive's or its asker's, holder-budget.ts),
   * or held from the start (the daily budget spent as it was queued): its document says why and
   * until when — or, for a step of a pipeline a document asked for, which step.
   */
  async waiting(task: Task, reason: WaitingReason): Promise<void> {
    const documentId = taskDocumentOf(task);
    if (!documentId) return;
    const step = documentPipelineOf(task) !== undefined;
    const message = `${step ? `step "${task.title}" waits` : "waits"}: ${reason.message}`;
    await this.writer.write(documentId, "notice", (s) => (!isTerminal(s) && (step || s.currentTaskId === task.id) ? actions.addNotice({ level: "warning", message, at: now() }) : undefined));
  }

  /** The final status and result go back to the task's document (the seed's handleTaskResult, its document half). */
  async ended(task: Task, result: JsonValue | null, durationMs: number | undefined): Promise<void> {
    const documentId = taskDocumentOf(task);
    if (!documentId || (await this.followedPipeline(documentId, task))) return;
    await this.writer.flushOutput(task.id);
    await this.writer.write(documentId, task.status, (s) => {
      const last = finalAction(s, task, result, durationMs);
      if (!last) return undefined;
      // A task that outran its document (API tasks run before their document says queued): its live
      // output found no document to go to, so the result's output goes in before the end.
      const missed = s.outputBytes === 0 ? outputOfResult(result).slice(-4096) : "";
      return [...(missed ? [actions.appendOutput({ taskId: task.id, text: missed })] : []), ...(Array.isArray(last) ? last : [last])];
    });
  }

  /** For a step of a pipeline a task document asked for: its document follows the pipeline (true), not the step. */
  private async followedPipeline(documentId: string, task: Task): Promise<boolean> {
    const pipelineId = documentPipelineOf(task);
    return pipelineId !== undefined && this.pipelineDocuments !== undefined && this.pipelineDocuments.followStep(documentId, pipelineId, task.id);
  }
}
