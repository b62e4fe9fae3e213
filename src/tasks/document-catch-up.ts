/**
 * Brings a task document up to date with its task as the store has it — for a task another worker
 * runs (no events reach this process), one that outran its document, or an agent that stopped
 * before writing back — and, while its task waits in the queue, tells it why (waiting-notices.ts).
 */
import type { Action } from "document-model";
import type { TaskDocumentWriter } from "../reactor/document-writer.js";
import { actions } from "../reactor/task-document/actions.js";
import { finalAction, isTerminal, outputOfResult } from "./document-updates.js";
import type { PipelineDocuments } from "./pipeline-documents.js";
import type { TaskManager } from "./task-manager.js";
import { isTerminalStatus, type Task } from "./types.js";
import type { WaitingNotices } from "./waiting-notices.js";

export interface DocumentCatchUpDeps {
  manager: Pick<TaskManager, "getTask" | "flushOutput" | "getEvents">;
  writer: TaskDocumentWriter;
  /** Task documents that ask for a pipeline follow it instead of a task. */
  pipelineDocuments: PipelineDocuments | undefined;
  waitingNotices: WaitingNotices;
}

export class DocumentCatchUp {
  constructor(private readonly deps: DocumentCatchUpDeps) {}

  /**
   * Brings a task document up to date with its task in the store: writes the running, output and
   * final operations it missed (the task outran the document, or the agent stopped before writing
   * back). Each write is decided from the document's state, so nothing is written twice.
   * `periodic`: the catch-up every 2 s, which leaves a pipeline's document alone while its pipeline is unchanged.
   */
  async catchUp(documentId: string, taskId: string, periodic = false): Promise<Task["status"] | undefined> {
    const task = await this.deps.manager.getTask(taskId);
    // No such task: the document may follow a pipeline (it asked for one).
    if (!task) return this.deps.pipelineDocuments?.catchUp(documentId, taskId, periodic);
    if (task.status === "pending") {
      if (periodic) await this.deps.waitingNotices.check(task);
      return task.status;
    }
    this.deps.waitingNotices.forget(taskId);
    const terminal = isTerminalStatus(task.status);
    if (terminal) await this.deps.manager.flushOutput();
    // The stored log; when the worker that ran it has not flushed it yet, the result's own output.
    const logged = terminal ? (await this.deps.manager.getEvents(taskId, 0, 10_000)).filter((e) => e.kind === "output").map((e) => e.data).join("") : "";
    const output = (logged || outputOfResult(task.result ?? null)).slice(-4096);
    const attempt = Math.max(1, task.attempts);
    await this.deps.writer.write(documentId, "catch-up", (s) => {
      if (s.currentTaskId !== taskId || isTerminal(s)) return undefined;
      const due: Action[] = [];
      if (s.status === "queued") due.push(actions.markRunning({ taskId, attempt, workerId: task.runtime.workerId ?? "unknown", startedAt: (task.runtime.startedAt ?? new Date()).toISOString() }));
      if (terminal && s.outputBytes === 0 && output.length > 0) due.push(actions.appendOutput({ taskId, text: output }));
      if (terminal) {
        const last = finalAction(s, task, task.result ?? null, undefined);
        if (last) due.push(...(Array.isArray(last) ? last : [last]));
      }
      return due;
    });
    return task.status;
  }
}
