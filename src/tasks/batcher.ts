/**
 * Collects items added during one turn of the event loop and hands them to one batched call.
 * Ten tasks finishing together cost one SQL statement, not ten.
 */
export class Batcher<Item, Result> {
  private items: { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly run: (items: Item[]) => Promise<Result[]>) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.items.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Runs what is queued now; resolves when it (and any earlier batch) is done. */
  async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.items;
    this.items = [];
    if (batch.length === 0) return this.inFlight;
    const previous = this.inFlight;
    this.inFlight = (async () => {
      await previous;
      try {
        const results = await this.run(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i] as Result));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    })();
    return this.inFlight;
  }
}
