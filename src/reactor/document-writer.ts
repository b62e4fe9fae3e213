/**
 * Writes the agent's reports into task documents. Writes to one document happen one after the
 * other, in the order asked; each first reads the document and decides from its state whether the
 * write is still due, so a replay after a crash writes nothing twice. Live output is batched: at
 * most one APPEND_OUTPUT per task per flush interval, carrying only the new, bounded tail — every
 * operation stays in the document's history and is synced to every client of the drive.
 * Nothing here throws into the caller: a failed write is logged.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Action } from "document-model";
import type { Logger } from "../logger.js";
import { dispatch, getTaskDocumentState } from "./documents.js";
import { actions } from "./task-document/actions.js";
import type { TaskDocumentState } from "./task-document/state.js";

export interface DocumentWriterOptions {
  outputFlushMs: number;
  /** The most output text one APPEND_OUTPUT carries (the newest part is kept). */
  outputChunkChars: number;
}

interface PendingOutput {
  documentId: string;
  text: string;
  bytes: number;
  timer: NodeJS.Timeout | undefined;
}

export class TaskDocumentWriter {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly output = new Map<string, PendingOutput>();

  constructor(
    private readonly reactor: IDocumentDriveServer,
    private readonly logger: Logger,
    private readonly options: DocumentWriterOptions,
    /** Told the id of every action the agent writes, before it is applied (loop protection). */
    private readonly onOwnAction: (action: Action) => void = () => undefined,
  ) {}

  /**
   * After the earlier writes to this document: reads its state and applies the actions `decide`
   * returns (none when the write is no longer due).
   */
  write(documentId: string, what: string, decide: (state: TaskDocumentState) => Action[] | Action | undefined): Promise<void> {
    const previous = this.chains.get(documentId) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        const state = await getTaskDocumentState(this.reactor, documentId);
        const decided = decide(state);
        for (const action of decided === undefined ? [] : Array.isArray(decided) ? decided : [decided]) {
          this.onOwnAction(action);
          await dispatch(this.reactor, documentId, action);
        }
      } catch (error) {
        this.logger.warn({ err: error, documentId, what }, "could not write to the task document");
      }
    });
    this.chains.set(documentId, next);
    void next.then(() => {
      if (this.chains.get(documentId) === next) this.chains.delete(documentId);
    });
    return next;
  }

  appendOutput(documentId: string, taskId: string, text: string): void {
    let pending = this.output.get(taskId);
    if (!pending) {
      pending = { documentId, text: "", bytes: 0, timer: undefined };
      this.output.set(taskId, pending);
    }
    pending.bytes += Buffer.byteLength(text);
    pending.text = (pending.text + text).slice(-this.options.outputChunkChars);
    pending.timer ??= setTimeout(() => void this.flushOutput(taskId), this.options.outputFlushMs);
  }

  /** Writes the task's buffered output now (before its final status). */
  flushOutput(taskId: string): Promise<void> {
    const pending = this.output.get(taskId);
    if (!pending) return Promise.resolve();
    this.output.delete(taskId);
    if (pending.timer) clearTimeout(pending.timer);
    if (pending.text.length === 0) return Promise.resolve();
    return this.write(pending.documentId, "output", (state) =>
      state.currentTaskId === taskId && state.status === "running" ? actions.appendOutput({ taskId, text: pending.text, bytes: pending.bytes }) : undefined,
    );
  }

  /** Resolves when every write asked for so far is done (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.output.keys()].map((taskId) => this.flushOutput(taskId)));
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}
