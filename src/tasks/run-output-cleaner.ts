/**
 * What a run produces, on its way to the event log, the documents and the live streams: the
 * agent's secrets redacted (held back across chunk boundaries, see security/redactor.ts) and NUL
 * characters replaced (see storable.ts). One per attempt.
 */
import type { Redactor, StreamRedactor } from "../security/redactor.js";
import type { AttemptOutcome } from "./execute-attempt.js";
import { storableJson, storableText } from "./storable.js";
import type { JsonObject, JsonValue, OutputChunk, ProgressEvent } from "./types.js";

export class RunOutputCleaner {
  private readonly streams = new Map<OutputChunk["stream"], StreamRedactor>();

  constructor(
    private readonly redactor: Redactor,
    private readonly sink: { output: (chunk: OutputChunk) => void; progress: (event: ProgressEvent) => void },
  ) {}

  output(chunk: OutputChunk): void {
    if (!this.redactor.active) return this.emit(chunk);
    let stream = this.streams.get(chunk.stream);
    if (!stream) this.streams.set(chunk.stream, (stream = this.redactor.stream()));
    this.emit({ stream: chunk.stream, data: stream.push(chunk.data) });
  }

  progress(event: ProgressEvent): void {
    this.sink.progress(this.clean(event as unknown as JsonObject) as unknown as ProgressEvent);
  }

  /** The run is over: what the streams held back goes out, and the outcome is cleaned too. */
  finish(outcome: AttemptOutcome): AttemptOutcome {
    for (const [stream, redactor] of this.streams) this.emit({ stream, data: redactor.end() });
    if (outcome.status === "completed") return { ...outcome, result: this.clean(outcome.result) };
    return { ...outcome, error: this.clean(outcome.error), ...(outcome.result !== undefined ? { result: this.clean(outcome.result) } : {}) };
  }

  private clean<T extends JsonValue>(value: T): T {
    return storableJson(this.redactor.json(value));
  }

  private emit(chunk: OutputChunk): void {
    if (chunk.data.length > 0) this.sink.output({ stream: chunk.stream, data: storableText(chunk.data) });
  }
}
