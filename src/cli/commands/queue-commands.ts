/**
 * `ph-tasks queue pause|resume|status`: stop every worker claiming tasks (of some types, or all)
 * and start again. Tasks are still accepted while paused; running ones finish.
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseDuration } from "../../config.js";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { clientFor, printJson } from "./client-options.js";

const ApiPauseSchema = z.object({ taskType: z.string(), reason: z.string(), pausedAt: z.string() });
type ApiPause = z.infer<typeof ApiPauseSchema>;
const PausesSchema = z.object({ pauses: z.array(ApiPauseSchema) });

function describe(pauses: ApiPause[]): string {
  if (pauses.length === 0) return "running: no type is paused\n";
  return pauses.map((p) => `paused ${p.taskType === "*" ? "every type" : p.taskType}  since ${p.pausedAt}${p.reason ? `  (${p.reason})` : ""}\n`).join("");
}

/** Polls until no task of `types` (none: of any type) runs on any worker; ClientError 124 after `timeoutMs`. */
async function waitDrained(client: AgentClient, types: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const Page = z.object({ total: z.number() });
  let last = -1;
  for (;;) {
    let running = 0;
    for (const type of types.length > 0 ? types : [undefined]) {
      const query = new URLSearchParams({ status: "running", limit: "1", ...(type ? { type } : {}) });
      running += (await client.request("GET", `/api/tasks?${query.toString()}`, Page)).total;
    }
    if (running === 0) return void process.stderr.write("[ph-tasks] drained: nothing of it runs\n");
    if (running !== last) process.stderr.write(`[ph-tasks] waiting for ${running} running task(s) to finish\n`);
    last = running;
    if (Date.now() > deadline) throw new ClientError(`still ${running} running task(s) after ${timeoutMs} ms; the pause stays`, EXIT.timeout);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export function registerQueueCommands(program: Command): void {
  const queue = program.command("queue").description("pause and resume the queue for every worker (tasks are still accepted while paused)");

  queue
    .command("pause")
    .description("stop claiming tasks of these types (default: every type); running ones finish")
    .argument("[types...]", "task types, e.g. claude-code; none: every type")
    .option("--reason <text>", "why, shown with the pause")
    .option("--wait", "then wait until no task of those types runs on any worker (drained), e.g. before an upgrade")
    .option("--timeout <duration>", "with --wait: give up after this long (exit 124), e.g. 90s, 10m", "10m")
    .option("--json", "print the pauses as JSON")
    .action(async (types: string[], flags: { reason?: string; wait?: boolean; timeout: string; json?: boolean }, command: Command) => {
      const timeoutMs = parseDuration(flags.timeout);
      if (timeoutMs === undefined) throw new ClientError(`--timeout: expected a duration like 90s or 10m, got '${flags.timeout}'`, EXIT.usage);
      const client = clientFor(command);
      const body = { ...(types.length > 0 ? { types } : {}), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      const { pauses } = await client.request("POST", "/api/queue/pause", PausesSchema, body);
      if (flags.json) printJson(pauses);
      else process.stdout.write(describe(pauses));
      if (flags.wait) await waitDrained(client, types.filter((t) => t !== "*"), timeoutMs);
    });

  queue
    .command("resume")
    .description("claim these types again (default: every pause is lifted)")
    .argument("[types...]", "task types (or *) to resume; none: all")
    .option("--json", "print the pauses left as JSON")
    .action(async (types: string[], flags: { json?: boolean }, command: Command) => {
      const { resumed, pauses } = await clientFor(command).request("POST", "/api/queue/resume", PausesSchema.extend({ resumed: z.array(z.string()) }), types.length > 0 ? { types } : {});
      if (flags.json) return printJson(pauses);
      process.stdout.write(`${resumed.length > 0 ? `resumed ${resumed.join(", ")}` : "nothing was paused"}\n${describe(pauses)}`);
    });

  queue
    .command("status")
    .description("what is paused")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { pauses } = await clientFor(command).request("GET", "/api/queue/pauses", PausesSchema);
      if (flags.json) return printJson(pauses);
      process.stdout.write(describe(pauses));
    });
}
