/**
 * Cancels this worker heard of for a task it did not hold yet. A claim commits, then its answer
 * travels back; a cancel asked in between finds the task claimed (running in the store) but neither
 * running nor waiting here, so it is only noted. When the claim's answer arrives the task is ended
 * as cancelled before it starts, instead of starting to be stopped at the next lease renewal.
 */
export class RecentCancels {
  /** Task id → when its cancel was heard; kept briefly (a claim's answer comes within a round trip). */
  private readonly heard = new Map<string, number>();

  constructor(private readonly keepMs = 10_000) {}

  note(id: string): void {
    const now = Date.now();
    // Oldest first (a Map keeps insertion order; a cancel heard again moves to the end).
    for (const [old, at] of this.heard) {
      if (now - at <= this.keepMs) break;
      this.heard.delete(old);
    }
    this.heard.delete(id);
    this.heard.set(id, now);
  }

  /** Whether a cancel of `id` was heard lately (forgotten once asked). */
  take(id: string): boolean {
    const at = this.heard.get(id);
    this.heard.delete(id);
    return at !== undefined && Date.now() - at <= this.keepMs;
  }
}
