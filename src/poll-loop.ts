/**
 * A look that repeats: every `pollMs`, sooner when the look itself says when (a due time it
 * knows), and at once on wake() — one look at a time; a wake during a look brings another right
 * after it. The cron scheduler and the webhook sender each run one per worker.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();
  private busy = false;
  private again = false;

  constructor(
    /** One look; resolves with the delay until the next (ms). */
    private readonly look: () => Promise<number>,
    private readonly pollMs: number,
    /** A look that threw: logged, and the next comes after pollMs. */
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm(0);
  }

  /** No look after this; resolves once the one in progress ended. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Looks now (or right after the look in progress). */
  wake(): void {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.arm(0);
  }

  private arm(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ticking = this.tick();
    }, delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.busy = true;
    this.again = false;
    let delay = this.pollMs;
    try {
      delay = Math.max(0, Math.min(this.pollMs, await this.look()));
    } catch (error) {
      this.onError(error);
    } finally {
      this.busy = false;
    }
    if (this.running) this.arm(this.again ? 0 : delay);
  }
}
