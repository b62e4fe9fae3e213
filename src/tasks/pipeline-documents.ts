/**
 * A task document that asks for a pipeline: `taskType: "pipeline"`, its `params` the pipeline's
 * steps (`{ steps, onFailure? }`, or `{ template, params }` naming a pipeline template), its title
 * the pipeline's. A person in Connect writes it and presses run, as for any task; the agent makes the
 * pipeline (its key the document's request, so a repeated event makes no second one), each step's
 * task linked to the document (no task document per step), and the document follows the pipeline:
 * queued, running once a step started, a line per step's start and end in its output, a notice
 * while it is blocked, then completed / failed / cancelled with each step's status and result. Its `currentTaskId`
 * is the pipeline's id; cancel from the document cancels the pipeline; RETRY runs again only the
 * steps that failed or were cancelled (a new run of the same pipeline), REQUEST_RUN a new pipeline.
 */
import type { Action } from "document-model";
import { actions } from "../reactor/task-document/actions.js";
import type { TaskDocumentState } from "../reactor/task-document/state.js";
import type { TaskDocumentWriter } from "../reactor/document-writer.js";
import { pipelineHasEnded, type PipelineService, type PipelineView } from "../pipelines/pipeline-service.js";
import { pipelineIdOf } from "../store/sql/pipelines/pipeline-row.js";
import { isTerminal } from "./document-updates.js";
import { documentIdempotencyKey, TASK_DOCUMENT_ORIGIN, taskDocumentSource, type RequestOperation } from "./task-from-document.js";
import { isTerminalStatus, type JsonValue, type Task, type TaskStatus } from "./types.js";

/** The task type a task document names to ask for a pipeline (reserved: registry.ts). */
export const PIPELINE_TASK_TYPE = "pipeline";

const now = () => new Date().toISOString();

export function asksForPipeline(state: Pick<TaskDocumentState, "taskType">): boolean {
  return state.taskType === PIPELINE_TASK_TYPE;
}

/** The pipeline a document-linked step belongs to, when a task document asked for that pipeline. */
export function documentPipelineOf(task: Task): string | undefined {
  return task.source?.origin === TASK_DOCUMENT_ORIGIN ? pipelineIdOf(task) : undefined;
}

/** The periodic catch-up follows an unchanged pipeline again after this long. */
export const UNCHANGED_FOLLOW_MS = 30_000;

/** The status a document following `view` is kept by: its end, or pending / running (blocked counts as running). */
function followStatus(view: PipelineView): TaskStatus {
  return pipelineHasEnded(view.status) ? (view.status as TaskStatus) : view.status === "pending" ? "pending" : "running";
}

export class PipelineDocuments {
  /** Per document, the pipeline as the catch-up last followed it, and when. */
  private readonly followed = new Map<string, { seen: string; at: number }>();

  constructor(
    private readonly pipelines: PipelineService,
    private readonly writer: TaskDocumentWriter,
  ) {}

  /** The pipeline this request made before (a repeated event), if any. */
  async existing(documentId: string, requestId: string): Promise<PipelineView | undefined> {
    return this.pipelines.find(documentIdempotencyKey(documentId, requestId));
  }

  /** Makes the pipeline the document asks for; ValidationError naming each field when it is refused. */
  async start(state: TaskDocumentState, documentId: string, driveId: string, requestId: string, operation: RequestOperation | undefined): Promise<PipelineView> {
    const request = { ...state.params, title: state.title, idempotencyKey: documentIdempotencyKey(documentId, requestId) };
    return (await this.pipelines.create(request, TASK_DOCUMENT_ORIGIN, taskDocumentSource({ documentId, driveId }, operation), operation?.by)).pipeline;
  }

  /**
   * The pipeline a RETRY on the document takes up again: its last one, while it has steps that
   * failed or were cancelled (only those run again; completed steps keep their results).
   */
  async retryable(state: TaskDocumentState): Promise<PipelineView | undefined> {
    const last = state.runs.at(-1)?.taskId;
    const view = last ? await this.pipelines.get(last) : undefined;
    return view?.steps.some((step) => step.status === "failed" || step.status === "cancelled") ? view : undefined;
  }

  async retry(id: string): Promise<void> {
    await this.pipelines.retry(id);
  }

  /** Cancels the pipeline; false when `id` names none. */
  async cancel(id: string, reason: string): Promise<boolean> {
    return (await this.pipelines.cancel(id, reason)) !== undefined;
  }

  /**
   * Brings the document up to date with its pipeline (each write decided from the document's state:
   * nothing written twice). Returns the status to follow it by (blocked counts as running), or
   * undefined when `id` names no pipeline.
   */
  async catchUp(documentId: string, id: string, periodic = false): Promise<TaskStatus | undefined> {
    const view = await this.pipelines.get(id);
    if (!view) return undefined;
    // The periodic catch-up leaves the document alone while its pipeline has not changed since it
    // last followed it (reading the document is the costly part), but looks again every so often:
    // a write that failed is tried again.
    const seen = `${view.status};${view.steps.map((step) => `${step.status}:${step.task?.attempts ?? ""}:${step.task?.updatedAt.getTime() ?? ""}`).join(",")}`;
    const last = this.followed.get(documentId);
    if (periodic && last?.seen === seen && Date.now() - last.at < UNCHANGED_FOLLOW_MS) return followStatus(view);
    const status = await this.follow(documentId, view);
    if (isTerminalStatus(status)) this.followed.delete(documentId);
    else this.followed.set(documentId, { seen, at: Date.now() });
    return status;
  }

  /**
   * A step's event: the document that asked for its pipeline follows the pipeline. False when the
   * task is no step of it (a tag given by hand): the document follows that task as any other.
   */
  async followStep(documentId: string, pipelineId: string, taskId: string): Promise<boolean> {
    const view = await this.pipelines.get(pipelineId);
    if (!view?.steps.some((step) => step.taskId === taskId)) return false;
    await this.follow(documentId, view);
    return true;
  }

  private async follow(documentId: string, view: PipelineView): Promise<TaskStatus> {
    const id = view.id;
    const ended = pipelineHasEnded(view.status);
    await this.writer.write(documentId, "pipeline", (s) => {
      if (s.currentTaskId !== id || isTerminal(s)) return undefined;
      const due: Action[] = [];
      const started = view.steps.map((step) => step.task?.runtime.startedAt).filter((at): at is Date => at instanceof Date);
      if (s.status === "queued" && (started.length > 0 || ended)) {
        const first = started.sort((a, b) => a.getTime() - b.getTime())[0];
        // A pipeline taken up again by RETRY is the document's next run of it.
        const attempt = s.runs.filter((run) => run.taskId === id).length + 1;
        due.push(actions.markRunning({ taskId: id, attempt, workerId: view.steps.find((step) => step.task?.runtime.workerId)?.task?.runtime.workerId ?? "pipeline", startedAt: (first ?? new Date()).toISOString() }));
      }
      // The steps' progress, a line per start and end, each written once (its text is its key).
      const missing = progressLines(view).filter((line) => !s.outputTail.includes(line));
      if (missing.length > 0 && (due.length > 0 || s.status === "running")) due.push(actions.appendOutput({ taskId: id, text: missing.join("") }));
      if (view.status === "blocked") {
        const message = blockedNotice(view);
        if (!s.notices.some((n) => n.message === message)) due.push(actions.addNotice({ level: "warning", message, at: now() }));
      }
      if (ended) due.push(endAction(view));
      return due;
    });
    return followStatus(view);
  }
}

/**
 * A line for each step's start and end so far, oldest first: "12:00:01.250 build: running", "12:00:04.020
 * build: completed", "… check: failed (exit_code: …)". A retried step's new start and end are new
 * lines (their times differ).
 */
function progressLines(view: PipelineView): string[] {
  const lines: { at: Date; text: string }[] = [];
  // To the millisecond: a step retried within the same second is a new line, not the old one again.
  const clock = (at: Date) => at.toISOString().slice(11, 23);
  for (const step of view.steps) {
    const task = step.task;
    if (task?.runtime.startedAt) lines.push({ at: task.runtime.startedAt, text: `${clock(task.runtime.startedAt)} ${step.name}: running\n` });
    const ended = task?.status === "completed" || task?.status === "failed" || task?.status === "cancelled";
    if (task && ended) {
      const at = task.runtime.finishedAt ?? task.runtime.startedAt ?? new Date(0);
      lines.push({ at, text: `${clock(at)} ${step.name}: ${task.status}${task.error ? ` (${task.error.code}: ${task.error.message.split("\n")[0]})` : ""}\n` });
    }
  }
  return lines.sort((a, b) => a.at.getTime() - b.at.getTime()).map((line) => line.text);
}

function blockedNotice(view: PipelineView): string {
  const held = view.steps.filter((step) => step.status === "failed" || step.status === "cancelled").map((step) => step.name);
  // The document says running while blocked (RETRY is refused while a run is on): how to go on.
  return `pipeline blocked: steps wait for ${held.join(", ")} to be retried — CANCEL, then RETRY, runs ${held.length > 1 ? "them" : "it"} and the steps waiting again (completed steps keep their results)`;
}

/** The document's end: each step's status, result and error in the result; the first failed step's error. */
function endAction(view: PipelineView): Action {
  const finishedAt = now();
  const steps = Object.fromEntries(view.steps.map((step) => [step.name, { status: step.status, result: step.task?.result ?? null, error: step.task?.error ? { code: step.task.error.code, message: step.task.error.message } : null }]));
  const result = { pipelineId: view.id, status: view.status, steps } as JsonValue;
  if (view.status === "completed") return actions.markCompleted({ taskId: view.id, result, finishedAt });
  if (view.status === "failed") {
    const failed = view.steps.find((step) => step.status === "failed");
    const error = failed?.task?.error;
    return actions.markFailed({ taskId: view.id, error: { code: error?.code ?? "step_failed", message: `step ${failed?.name ?? "?"}: ${error?.message ?? "failed"}` }, result, finishedAt });
  }
  return actions.markCancelled({ taskId: view.id, reason: view.steps.find((step) => step.task?.status === "cancelled")?.task?.error?.message ?? "pipeline cancelled", finishedAt });
}
