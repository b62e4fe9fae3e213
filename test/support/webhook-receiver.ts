/** A webhook receiver for tests: a real HTTP server that records every POST and answers from a script. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { silentLogger } from "../../src/logger.js";
import { openWithSecondConnection, type Backend } from "./stores.js";
import type { Db } from "../../src/store/db.js";
import { WebhookStore } from "../../src/store/webhook-store.js";
import { WebhookSender } from "../../src/webhooks/webhook-sender.js";
import { WebhookService } from "../../src/webhooks/webhook-service.js";

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

/**
 * A webhook named `name` asking for `events`, a real receiver and a sender polling every 100 ms on
 * `db` (spend.test.ts, drive-budget.test.ts); `stop` ends the sender and the receiver.
 */
export async function receiveWebhooks(db: Db, name: string, events: string[]) {
  const receiver = await startReceiver();
  const sender = new WebhookSender({ store: new WebhookStore(db), workerId: "sender", pollMs: 100, timeoutMs: 2000, maxAttempts: 3, retry: { baseMs: 50, maxMs: 200 }, retentionMs: 86_400_000, logger: silentLogger() });
  await new WebhookService(new WebhookStore(db)).create({ name, url: receiver.url, events });
  sender.start();
  return {
    received: receiver.received,
    stop: async () => {
      await sender.stop();
      await receiver.close();
    },
  };
}

/**
 * A store with a second connection (stores.ts openWithSecondConnection: two workers' own) and a
 * webhook receiving `events` on it (receiveWebhooks); `cleanup` stops the receiver, then closes both.
 */
export async function openWithReceiver(backend: Backend, name: string, events: string[]) {
  const opened = await openWithSecondConnection(backend);
  const receiver = await receiveWebhooks(opened.store.db, name, events);
  return {
    store: opened.store,
    other: opened.other,
    receiver,
    cleanup: async () => {
      await receiver.stop();
      await opened.cleanup();
    },
  };
}
