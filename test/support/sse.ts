/** Reads a task's server-sent events over fetch for tests, with the CLI's own SSE reader. */
import { readSseEvents, type SseEvent } from "../../src/cli/sse-reader.js";

export type { SseEvent };

export async function readSse(url: string, options: { headers?: Record<string, string>; until?: (e: SseEvent, all: SseEvent[]) => boolean; timeoutMs?: number } = {}): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { Accept: "text/event-stream", ...options.headers }, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status}`);
    for await (const event of readSseEvents(res.body)) {
      events.push(event);
      if (event.event === "end" || options.until?.(event, events)) {
        controller.abort();
        return events;
      }
    }
    return events;
  } catch (error) {
    if (controller.signal.aborted) return events;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
