/** `ph-tasks stats`: per task type, what waits and runs now and how the last hour's tasks ended; `ph-tasks failures`: why tasks failed. */
import type { Command } from "commander";
import { z } from "zod";
import { ago, table, truncate } from "../format.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const TypeStatsSchema = z.object({
  type: z.string(),
  pending: z.number(),
  running: z.number(),
  lastHour: z.object({ completed: z.number(), failed: z.number(), cancelled: z.number(), failureRate: z.number().nullable(), p50Ms: z.number().nullable(), p95Ms: z.number().nullable() }),
});
const StatsSchema = z.looseObject({ types: z.array(TypeStatsSchema) });
const FailuresSchema = z.looseObject({
  since: z.string(),
  failures: z.array(z.object({ type: z.string(), code: z.string(), count: z.number(), lastAt: z.string(), lastMessage: z.string(), lastTaskId: z.string() })),
});

const seconds = (ms: number | null) => (ms === null ? "–" : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

export function registerStatsCommand(program: Command): void {
  program
    .command("stats")
    .description("per task type: waiting and running now (all workers); completed, failed, cancelled, failure rate and run times (median, 95th percentile) over the last hour")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { types } = await clientFor(command).request("GET", "/api/stats", StatsSchema);
      if (flags.json) return printJson(types);
      const rows = types.map((t) => [
        t.type, String(t.pending), String(t.running), String(t.lastHour.completed), String(t.lastHour.failed), String(t.lastHour.cancelled),
        t.lastHour.failureRate === null ? "–" : `${Math.round(t.lastHour.failureRate * 100)} %`, seconds(t.lastHour.p50Ms), seconds(t.lastHour.p95Ms),
      ]);
      printText(`${table(["TYPE", "WAITING", "RUNNING", "DONE 1H", "FAILED 1H", "CANCELLED 1H", "FAILURE", "MEDIAN", "P95"], rows)}\n`);
    });

  program
    .command("failures")
    .description("why tasks failed for good: per type and error code, how many since a time, and the latest one's message and task id — most frequent first")
    .option("--since <when>", "an ISO date-time or a time ago (2h, 7d)", "24h")
    .option("--type <type>", "one task type only")
    .option("--limit <n>", "rows at most (1-100)", "20")
    .option("--json", "print JSON")
    .action(async (flags: { since: string; type?: string; limit: string; json?: boolean }, command: Command) => {
      const query = new URLSearchParams({ since: flags.since, limit: flags.limit, ...(flags.type ? { type: flags.type } : {}) });
      const { since, failures } = await clientFor(command).request("GET", `/api/failures?${query.toString()}`, FailuresSchema);
      if (flags.json) return printJson(failures);
      if (failures.length === 0) return void printText(`no task failed since ${since}\n`);
      const rows = failures.map((f) => [f.type, f.code, String(f.count), ago(f.lastAt), f.lastTaskId, truncate(f.lastMessage.replace(/\s+/g, " "), 80)]);
      printText(`${table(["TYPE", "CODE", "COUNT", "LAST", "LAST TASK", "LAST MESSAGE"], rows)}\n`);
    });
}
