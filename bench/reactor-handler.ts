/**
 * The seed's "minimal performance impact": reactor operations per second with the task event
 * handler attached vs without it, same reactor, alternating rounds, one run. Also what
 * FilesystemStorage costs per operation as a document's history grows.
 * Run alone: `npx tsx bench/reactor-handler.ts`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { IDocumentDriveServer } from "document-drive";
import { createAction } from "document-model/core";
import { silentLogger } from "../src/logger.js";
import { dispatch } from "../src/reactor/documents.js";
import { TaskDocumentWriter } from "../src/reactor/document-writer.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { RulesFileSchema } from "../src/rules/rules-schema.js";
import { TaskStore } from "../src/store/task-store.js";
import { TaskEventHandler } from "../src/tasks/event-handler.js";
import { LoopGuard } from "../src/tasks/loop-guard.js";
import { fmt, median, noopManager, table } from "./support.js";

const OPS = Number(process.env.BENCH_REACTOR_OPS ?? 500);
const ROUNDS = 6;

/** Operations per second of SET_MODEL_NAME on one document-model document. */
async function opsPerSecond(reactor: IDocumentDriveServer, documentId: string, count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await dispatch(reactor, documentId, createAction("SET_MODEL_NAME", { name: `name-${i}` }, undefined, undefined, "global"));
  return (count / (performance.now() - start)) * 1000;
}

async function handlerOverhead(): Promise<{ without: number; withHandler: number }> {
  const { reactor } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger() });
  const store = await TaskStore.open({});
  const manager = noopManager(store);
  // A rule on this very document type whose filter never matches: the handler does all its
  // per-operation work (type lookup, rule matching, document read) without starting tasks.
  const rules = RulesFileSchema.parse({ rules: [{ name: "never", on: { documentType: "powerhouse/document-model", operationType: "SET_MODEL_NAME", where: { "input.name": "never" } }, task: { type: "noop", title: "x" } }] }).rules;
  const writer = new TaskDocumentWriter(reactor, silentLogger(), { outputFlushMs: 1000, outputChunkChars: 4096 });
  const handler = new TaskEventHandler({ manager, reactor, writer, guard: new LoopGuard({ maxChainDepth: 3, maxTasksPerDocumentPerMinute: 30 }), rules, logger: silentLogger() });
  const without: number[] = [];
  const withHandler: number[] = [];
  try {
    const measureWithout = async () => without.push(await opsPerSecond(reactor, (await reactor.addDocument("powerhouse/document-model")).header.id, OPS));
    const measureWith = async () => {
      handler.attach();
      withHandler.push(await opsPerSecond(reactor, (await reactor.addDocument("powerhouse/document-model")).header.id, OPS));
      await handler.idle();
      handler.detach();
    };
    // A fresh document for each measurement (histories grow), and the order alternates so that
    // neither side always runs on the warmer or the fuller reactor.
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        await measureWithout();
        await measureWith();
      } else {
        await measureWith();
        await measureWithout();
      }
    }
  } finally {
    await store.close();
  }
  return { without: median(without), withHandler: median(withHandler) };
}

/** FilesystemStorage rewrites the whole document per operation: cost grows with its history. */
async function filesystemCost(): Promise<{ history: number; opsPerSec: number }[]> {
  const dir = mkdtempSync(path.join(tmpdir(), "ph-bench-fs-"));
  const { reactor } = await createReactor({ storage: { kind: "filesystem", dir }, logger: silentLogger() });
  const id = (await reactor.addDocument("powerhouse/document-model")).header.id;
  const rows: { history: number; opsPerSec: number }[] = [];
  let history = 0;
  for (const step of [100, 400, 500, 1000]) {
    const rate = await opsPerSecond(reactor, id, 100);
    history += 100;
    rows.push({ history, opsPerSec: rate });
    for (let i = 0; i < step - 100; i++) await dispatch(reactor, id, createAction("SET_MODEL_NAME", { name: `fill-${i}` }, undefined, undefined, "global"));
    history += step - 100;
  }
  return rows;
}

export async function benchReactorHandler(): Promise<string> {
  const { without, withHandler } = await handlerOverhead();
  const fsRows = await filesystemCost();
  return [
    `### Reactor operations with the task event handler (memory storage, ${OPS} operations × ${ROUNDS} rounds, median)`,
    "",
    table(["reactor", "operations/s", "ratio"], [
      ["without the handler", fmt(without), "1.00"],
      ["with the handler attached", fmt(withHandler), fmt(withHandler / without, 2)],
    ]),
    "",
    "FilesystemStorage (the default) rewrites a document's whole file on every operation, so its cost grows with the history:",
    "",
    table(["operations already in the document", "operations/s (next 100)"], fsRows.map((r) => [fmt(r.history - 100), fmt(r.opsPerSec)])),
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchReactorHandler());
  process.exit(0);
}
