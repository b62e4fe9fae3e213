/**
 * A bounded copy of a stream's output: the first half of the cap and the last half are kept, the
 * middle is counted and replaced by a marker. A 1 GB output costs at most `capBytes` of memory.
 * Bytes are decoded as UTF-8 per stream with a StringDecoder, so a multi-byte character split
 * across chunks survives and invalid bytes become U+FFFD instead of crashing anything.
 */
import { StringDecoder } from "node:string_decoder";

export interface CapturedText {
  text: string;
  totalBytes: number;
  truncated: boolean;
  droppedBytes: number;
}

export class OutputCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(capBytes: number) {
    this.headLimit = Math.floor(capBytes / 2);
    this.tailLimit = capBytes - this.headLimit;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    // Copy: callers may reuse their buffers, and a slice would pin the whole original chunk.
    this.tail.push(Buffer.from(rest.subarray(Math.max(0, rest.length - this.tailLimit))));
    this.tailBytes += Math.min(rest.length, this.tailLimit);
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.tailLimit && this.tail.length > 1) {
      this.tailBytes -= this.tail.shift()?.length ?? 0;
    }
  }

  get totalBytes(): number {
    return this.total;
  }

  result(): CapturedText {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailLimit) tail = tail.subarray(tail.length - this.tailLimit);
    const dropped = this.total - head.length - tail.length;
    if (dropped <= 0) {
      return { text: new StringDecoder("utf8").end(Buffer.concat([head, tail])), totalBytes: this.total, truncated: false, droppedBytes: 0 };
    }
    const marker = `\n[… ${dropped} bytes of output omitted …]\n`;
    return {
      text: new StringDecoder("utf8").end(head) + marker + new StringDecoder("utf8").end(tail),
      totalBytes: this.total,
      truncated: true,
      droppedBytes: dropped,
    };
  }
}
