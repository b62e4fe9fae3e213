/**
 * Loop protection for tasks caused by documents: a chain of tasks triggered by other tasks'
 * results stops at TASK_MAX_CHAIN_DEPTH, and one document may start at most
 * TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE tasks. Operations the agent writes as bookkeeping never
 * reach here (the event handler ignores them).
 */
import type { TaskError } from "./types.js";

export interface LoopGuardSettings {
  maxChainDepth: number;
  maxTasksPerDocumentPerMinute: number;
}

export class LoopGuard {
  private readonly starts = new Map<string, number[]>();

  constructor(private readonly settings: LoopGuardSettings) {}

  /** Undefined when the task may start (and counts it); else why not. */
  admit(documentId: string, chainDepth: number, now = Date.now()): TaskError | undefined {
    if (chainDepth > this.settings.maxChainDepth) {
      return { kind: "fatal", code: "chain_depth_exceeded", message: `a chain of ${chainDepth} tasks triggered by task results exceeds TASK_MAX_CHAIN_DEPTH=${this.settings.maxChainDepth}` };
    }
    const recent = (this.starts.get(documentId) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.settings.maxTasksPerDocumentPerMinute) {
      this.starts.set(documentId, recent);
      return { kind: "fatal", code: "rate_capped", message: `document ${documentId} already started ${recent.length} tasks in the last minute (TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE=${this.settings.maxTasksPerDocumentPerMinute})` };
    }
    recent.push(now);
    this.starts.set(documentId, recent);
    return undefined;
  }
}
