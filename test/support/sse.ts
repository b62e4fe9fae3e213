/** A minimal server-sent-events reader over fetch, for tests. */
export interface SseEvent { id?: string; event: string; data: string }

export async function readSse(url: string, options: { headers?: Record<string, string>; until?: (e: SseEvent, all: SseEvent[]) => boolean; timeoutMs?: number } = {}): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { Accept: "text/event-stream", ...options.headers }, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const event: SseEvent = { event: "message", data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "id") event.id = value;
          else if (field === "event") event.event = value;
          else if (field === "data") data.push(value);
        }
        if (data.length === 0 && event.id === undefined) continue;
        event.data = data.join("\n");
        events.push(event);
        if (event.event === "end" || options.until?.(event, events)) {
          controller.abort();
          return events;
        }
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
