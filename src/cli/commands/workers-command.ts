/**
 * `ph-tasks workers [list]`: the workers sharing the agent's task store, and how each is doing;
 * `workers drain <id>` asks one to claim nothing more (its runs finish, what it claimed ahead goes
 * back), `--wait` until it holds nothing; `workers resume <id>` lets it claim again.
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseDuration } from "../../config.js";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { ago, table } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const WorkerSchema = z.object({
  id: z.string(),
  self: z.boolean(),
  state: z.enum(["running", "draining", "drained", "stopping", "lost"]),
  host: z.string(),
  pid: z.number(),
  version: z.string(),
  schemaVersion: z.number().nullable().optional(),
  maxConcurrent: z.number(),
  prefetch: z.number(),
  types: z.array(z.string()),
  holding: z.number(),
  lastHour: z.object({ completed: z.number(), failed: z.number() }),
  startedAt: z.string(),
  lastSeenAt: z.string(),
  drain: z.object({ requestedAt: z.string(), reason: z.string() }).nullable(),
});
type ApiWorker = z.infer<typeof WorkerSchema>;
const WorkersSchema = z.looseObject({ workers: z.array(WorkerSchema) });
const OneSchema = z.looseObject({ worker: WorkerSchema });

function describeWorkers(workers: ApiWorker[]): string {
  if (workers.length === 0) return "no worker is running on this task store\n";
  const rows = workers.map((w) => [
    `${w.id}${w.self ? " *" : ""}`, w.state, String(w.holding), String(w.maxConcurrent), String(w.lastHour.completed), String(w.lastHour.failed), w.types.length > 0 ? w.types.join(",") : "–", `${w.host}:${w.pid}`, `${w.version}${w.schemaVersion ? ` (schema ${w.schemaVersion})` : ""}`, ago(w.startedAt), ago(w.lastSeenAt),
  ]);
  const why = workers.filter((w) => w.drain?.reason).map((w) => `${w.id} ${w.state}: ${w.drain?.reason ?? ""}\n`);
  return `${table(["WORKER", "STATE", "HOLDING", "SLOTS", "DONE 1H", "FAILED 1H", "TYPES", "PROCESS", "VERSION", "STARTED", "LAST SEEN"], rows)}\n* the agent that answered\n${why.join("")}`;
}

/** Polls until the worker holds nothing; ClientError 124 after `timeoutMs` (the drain stays). */
async function waitDrained(client: AgentClient, id: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const worker = (await client.request("GET", "/api/workers", WorkersSchema)).workers.find((w) => w.id === id);
    if (!worker) return void process.stderr.write(`[ph-tasks] ${id} left the list (stopped)\n`);
    if (worker.holding === 0) return void process.stderr.write(`[ph-tasks] ${id} drained: it holds no task\n`);
    if (worker.holding !== last) process.stderr.write(`[ph-tasks] waiting for ${id}'s ${worker.holding} task(s) to finish\n`);
    last = worker.holding;
    if (Date.now() > deadline) throw new ClientError(`${id} still holds ${worker.holding} task(s) after ${timeoutMs} ms; the drain stays`, EXIT.timeout);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function registerWorkersCommand(program: Command): void {
  const workers = program.command("workers").description("the workers sharing the task store; drain one (claim nothing more) or resume it");

  workers
    .command("list", { isDefault: true })
    .description("every worker: state (running; draining, drained; stopping; lost: not heard from for longer than its lease), tasks it holds (running, or claimed ahead) and its slots, the task types it claims, when it started and was last heard from")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { workers: list } = await clientFor(command).request("GET", "/api/workers", WorkersSchema);
      if (flags.json) return printJson(list);
      printText(describeWorkers(list));
    });

  workers
    .command("drain")
    .description("ask a worker to claim nothing more, within a heartbeat: its running tasks finish, the ones it claimed ahead go back to the queue; it keeps running (resume, or a restart, ends the drain)")
    .argument("<id>", "worker id, as `ph-tasks workers` lists it")
    .option("--reason <text>", "why, shown with the worker")
    .option("--wait", "then wait until it holds no task, e.g. before taking its machine down")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 124), e.g. 90s, 10m", "10m")
    .option("--json", "print the worker as JSON")
    .action(async (id: string, flags: { reason?: string; wait?: boolean; timeout: string; json?: boolean }, command: Command) => {
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined) throw new ClientError(`--timeout: expected a duration like 90s or 10m, got '${flags.timeout}'`, EXIT.usage);
      const client = clientFor(command);
      const { worker } = await client.request("POST", `/api/workers/${encodeURIComponent(id)}/drain`, OneSchema, flags.reason ? { reason: flags.reason } : {});
      if (flags.json) printJson(worker);
      else printText(`draining ${worker.id}: it claims nothing more (${worker.holding} task(s) held)\n`);
      if (flags.wait) await waitDrained(client, id, timeoutMs);
    });

  workers
    .command("resume")
    .description("let a drained worker claim tasks again")
    .argument("<id>", "worker id")
    .option("--json", "print the worker as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { worker } = await clientFor(command).request("POST", `/api/workers/${encodeURIComponent(id)}/resume`, OneSchema, {});
      if (flags.json) return printJson(worker);
      printText(`resumed ${worker.id}: it claims tasks again\n`);
    });
}
