/**
 * Reads a server-sent-events body as events (`id`, `event`, `data`), for the CLI's `logs --follow`
 * and the tests. Comment lines (keep-alives) are skipped; multi-line data is joined.
 */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export function parseSseBlock(block: string): SseEvent | undefined {
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
  if (data.length === 0 && event.id === undefined) return undefined;
  event.data = data.join("\n");
  return event;
}

/** Yields the events of a streamed body as they arrive. */
export async function* readSseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf("\n\n")) >= 0) {
        const event = parseSseBlock(buffer.slice(0, split));
        buffer = buffer.slice(split + 2);
        if (event) yield event;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
