/**
 * A requests-per-minute budget for Claude runs on this worker (CLAUDE_REQUESTS_PER_MINUTE): a
 * start waits until the last minute holds fewer than the budget. Waiting stops on abort. (The
 * concurrency cap, CLAUDE_MAX_CONCURRENT, is the task manager's per-type limit: a task waiting
 * for it holds no slot.)
 */
export class StartsPerMinute {
  private readonly starts: number[] = [];

  constructor(private readonly perMinute: number) {}

  async acquire(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.starts.length > 0 && now - (this.starts[0] ?? 0) >= 60_000) this.starts.shift();
      if (this.starts.length < this.perMinute) {
        this.starts.push(now);
        return;
      }
      const wait = 60_000 - (now - (this.starts[0] ?? now)) + 5;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, wait);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        }, { once: true });
      });
    }
  }
}
