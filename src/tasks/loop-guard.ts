/**
 * Loop and flood protection for tasks caused by documents: a chain of tasks triggered by other
 * tasks' results stops at TASK_MAX_CHAIN_DEPTH; one document may start at most
 * TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE tasks, and one drive at most
 * TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE (a writer making a new document for every request would
 * otherwise pass the per-document cap as often as it liked). Operations the agent writes as
 * bookkeeping never reach here (the event handler ignores them). Counted by this agent, in memory.
 */
import type { TaskError } from "./types.js";

export interface LoopGuardSettings {
  maxChainDepth: number;
  maxTasksPerDocumentPerMinute: number;
  /** Absent: no cap per drive. */
  maxTasksPerDrivePerMinute?: number;
}

const WINDOW_MS = 60_000;
/** Keys kept before the quiet ones are dropped (a long-running agent sees many documents). */
const PRUNE_ABOVE = 10_000;

/** Start times per key within the last minute. */
class StartsPerMinute {
  private readonly starts = new Map<string, number[]>();
  /** Pruned when the map grows past this; doubled when pruning freed little (all keys busy). */
  private pruneAt = PRUNE_ABOVE;

  recent(key: string, now: number): number[] {
    return (this.starts.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
  }

  set(key: string, times: number[], now: number): void {
    this.starts.set(key, times);
    if (this.starts.size > this.pruneAt) {
      for (const [k, list] of this.starts) if ((list.at(-1) ?? 0) <= now - WINDOW_MS) this.starts.delete(k);
      this.pruneAt = Math.max(PRUNE_ABOVE, this.starts.size * 2);
    }
  }

  get size(): number {
    return this.starts.size;
  }
}

export class LoopGuard {
  private readonly documents = new StartsPerMinute();
  private readonly drives = new StartsPerMinute();

  constructor(private readonly settings: LoopGuardSettings) {}

  /** Undefined when the task may start (and counts it); else why not. */
  admit(documentId: string, chainDepth: number, now = Date.now(), driveId?: string): TaskError | undefined {
    if (chainDepth > this.settings.maxChainDepth) {
      return { kind: "fatal", code: "chain_depth_exceeded", message: `a chain of ${chainDepth} tasks triggered by task results exceeds TASK_MAX_CHAIN_DEPTH=${this.settings.maxChainDepth}` };
    }
    const recent = this.documents.recent(documentId, now);
    if (recent.length >= this.settings.maxTasksPerDocumentPerMinute) {
      this.documents.set(documentId, recent, now);
      return { kind: "fatal", code: "rate_capped", message: `document ${documentId} already started ${recent.length} tasks in the last minute (TASK_MAX_TASKS_PER_DOCUMENT_PER_MINUTE=${this.settings.maxTasksPerDocumentPerMinute})` };
    }
    const driveCap = this.settings.maxTasksPerDrivePerMinute;
    const inDrive = driveId && driveCap !== undefined ? this.drives.recent(driveId, now) : undefined;
    if (driveId && driveCap !== undefined && inDrive && inDrive.length >= driveCap) {
      this.drives.set(driveId, inDrive, now);
      return { kind: "fatal", code: "rate_capped", message: `drive ${driveId} already started ${inDrive.length} tasks in the last minute (TASK_MAX_TASKS_PER_DRIVE_PER_MINUTE=${driveCap})` };
    }
    this.documents.set(documentId, [...recent, now], now);
    if (driveId && inDrive) this.drives.set(driveId, [...inDrive, now], now);
    return undefined;
  }

  /** Documents and drives with starts on record (for the pruning test). */
  get keys(): { documents: number; drives: number } {
    return { documents: this.documents.size, drives: this.drives.size };
  }
}
