/** `ph-tasks workers`: the workers sharing the agent's task store, and how each is doing. */
import type { Command } from "commander";
import { z } from "zod";
import { ago, table } from "../format.js";
import { clientFor, printJson } from "./client-options.js";

const WorkerSchema = z.object({
  id: z.string(),
  self: z.boolean(),
  state: z.enum(["running", "stopping", "lost"]),
  host: z.string(),
  pid: z.number(),
  version: z.string(),
  maxConcurrent: z.number(),
  prefetch: z.number(),
  types: z.array(z.string()),
  holding: z.number(),
  startedAt: z.string(),
  lastSeenAt: z.string(),
});
const WorkersSchema = z.looseObject({ workers: z.array(WorkerSchema) });

export function registerWorkersCommand(program: Command): void {
  program
    .command("workers")
    .description("the workers sharing the task store: state (running, stopping, lost: not heard from for longer than its lease), tasks it holds (running, or claimed ahead) and its slots, the task types it claims, when it started and was last heard from")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { workers } = await clientFor(command).request("GET", "/api/workers", WorkersSchema);
      if (flags.json) return printJson(workers);
      if (workers.length === 0) return void process.stdout.write("no worker is running on this task store\n");
      const rows = workers.map((w) => [
        `${w.id}${w.self ? " *" : ""}`, w.state, String(w.holding), String(w.maxConcurrent), w.types.length > 0 ? w.types.join(",") : "–", `${w.host}:${w.pid}`, w.version, ago(w.startedAt), ago(w.lastSeenAt),
      ]);
      process.stdout.write(`${table(["WORKER", "STATE", "HOLDING", "SLOTS", "TYPES", "PROCESS", "VERSION", "STARTED", "LAST SEEN"], rows)}\n* the agent that answered\n`);
    });
}
