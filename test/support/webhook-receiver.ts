/** A webhook receiver for tests: a real HTTP server that records every POST and answers from a script. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received { at: number; path: string; headers: IncomingHttpHeaders; body: string; json: { id: string; event: string; webhook: string; task: Record<string, unknown>; pipeline?: Record<string, unknown> } }

/** A webhook receiver: records every POST and answers from a script (default 200). */
export async function startReceiver() {
  const received: Received[] = [];
  const answers: { status: number; headers?: Record<string, string> }[] = [];
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ at: Date.now(), path: req.url ?? "", headers: req.headers, body, json: JSON.parse(body) as Received["json"] });
      const answer = answers.shift() ?? { status: 200 };
      setTimeout(() => res.writeHead(answer.status, answer.headers ?? {}).end(answer.status >= 400 ? "receiver says no" : "ok"), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    answers,
    setDelay: (ms: number) => (delayMs = ms),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
