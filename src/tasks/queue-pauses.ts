/**
 * The task types this worker does not claim now: the queue's pauses (pause-store.ts), read at
 * start, again as soon as a change is announced, and at every heartbeat (should an announcement be
 * missed). A paused type's tasks are still accepted and wait; its running tasks finish.
 */
import type { PauseStore } from "../store/pause-store.js";
import { ALL_TYPES } from "../store/sql/pauses/pause-row.js";
import { LatestRead } from "./latest-read.js";

export class QueuePauses {
  private paused: ReadonlySet<string> = new Set();
  private readonly reads = new LatestRead();

  constructor(private readonly store: PauseStore) {}

  /** Reads the pauses again; true when what this worker may claim changed. */
  async refresh(): Promise<boolean> {
    const read = this.reads.begin();
    const rows = await this.store.list();
    if (!this.reads.isLatest(read)) return false;
    const now = new Set(rows.map((row) => row.task_type));
    const changed = now.size !== this.paused.size || [...now].some((type) => !this.paused.has(type));
    this.paused = now;
    return changed;
  }

  /** The types of `types` that may be claimed now. */
  claimable(types: readonly string[]): string[] {
    return types.filter((type) => this.allows(type));
  }

  /** Whether tasks of `type` may be claimed and started (no pause of it or of every type). */
  allows(type: string): boolean {
    return !this.paused.has(ALL_TYPES) && !this.paused.has(type);
  }
}
