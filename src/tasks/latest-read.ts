/**
 * Orders overlapping reads of one changing thing (the queue's pauses, the rate limits): a read that
 * began before a change can answer after a read that began after it (a busy database); applied
 * last, the older answer would undo the change until the next read. Only a read that began after
 * the last one applied is applied.
 */
export class LatestRead {
  private begun = 0;
  private applied = 0;

  /** Call before the read; pass what it returns to `isLatest` with the answer. */
  begin(): number {
    return ++this.begun;
  }

  /** True (and remembered) when no read that began later has been applied. */
  isLatest(read: number): boolean {
    if (read < this.applied) return false;
    this.applied = read;
    return true;
  }
}
