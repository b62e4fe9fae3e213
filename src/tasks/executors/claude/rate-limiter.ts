/**
 * A requests-per-minute budget for Claude runs on this worker (CLAUDE_REQUESTS_PER_MINUTE): a
 * start waits until the last minute holds fewer than the budget. Waiting stops on abort, and the
 * wait counts against the task's timeout like any other part of its run. (The
 * concurrency cap, CLAUDE_MAX_CONCURRENT, is the task manager's per-type limit: a task waiting
 * for it holds no slot.)
 */
export class StartsPerMinute {
  private readonly starts: number[] = [];

  /** windowMs is a minute but for tests. */
  constructor(private readonly perMinute: number, private readonly windowMs = 60_000) {}

  /** Resolves when a start fits the budget (and counts it); onWait hears how long it must wait first. */
  async acquire(signal: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    for (;;) {
      const now = Date.now();
      while (this.starts.length > 0 && now - (this.starts[0] ?? 0) >= this.windowMs) this.starts.shift();
      if (this.starts.length < this.perMinute) {
        this.starts.push(now);
        return;
      }
      const wait = this.windowMs - (now - (this.starts[0] ?? now)) + 5;
      onWait?.(wait);
      await sleepUnlessAborted(wait, signal);
    }
  }
}

/** Waits ms, or rejects as soon as the signal aborts; leaves no listener on the signal either way. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
