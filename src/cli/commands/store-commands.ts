/**
 * `ph-tasks store copy --to <postgres-url | data-dir> [--from <data-dir | postgres-url>]`: the task
 * store copied into a new one (src/store/store-copy.ts) — the embedded store into PostgreSQL when
 * more workers are wanted. Works on the stores themselves, not through an agent: an agent running
 * on a data directory given is named and the copy refused (stop it first); a PostgreSQL store may
 * be copied while its workers run (one snapshot).
 */
import type { Command } from "commander";
import { z } from "zod";
import { loadConfig } from "../../config.js";
import { formatFieldErrors, parseWith } from "../../validation.js";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { table } from "../format.js";
import { printJson } from "./client-options.js";
import { printNotice, printText } from "../terminal-text.js";

const FlagsSchema = z.object({
  to: z.string().trim().min(1, "must name a PostgreSQL URL (postgres://…) or a data directory"),
  from: z.string().trim().min(1, "must name a data directory or a PostgreSQL URL (postgres://…)").optional(),
  move: z.boolean().optional(),
  json: z.boolean().optional(),
});

export function registerStoreCommands(program: Command): void {
  const store = program.command("store").description("the task store itself: copy it into a new one (the embedded store into PostgreSQL)");
  store
    .command("copy")
    .description("copy the whole task store — tasks, output, schedules, hooks, webhooks, templates, pipelines, budgets, spend, audit log — into a new, empty one; the agent on a data directory must be stopped")
    .requiredOption("--to <store>", "the new store: a PostgreSQL URL (postgres://…) or a data directory (its store/ is made)")
    .option("--from <store>", "the store to copy (default: the agent's, DATABASE_URL or TASK_DATA_DIR)")
    .option("--move", "mark the old store (a data directory's) moved once copied: no agent starts on it again without DATABASE_URL, so nothing runs twice")
    .option("--json", "print the report as JSON")
    .action(async (raw: unknown) => {
      const parsed = parseWith(FlagsSchema, raw);
      if (!parsed.ok) throw new ClientError(`invalid options:\n${formatFieldErrors(parsed.errors.map((e) => ({ ...e, field: `--${e.field}` })))}`, EXIT.usage);
      const flags = parsed.value;
      // Loaded only here: the store and PGlite take a moment to load, which other commands need not pay.
      const { copyStore, describeLocation, storeLocation, StoreCopyError } = await import("../../store/store-copy.js");
      const { DataDirInUseError } = await import("../../store/data-dir-lock.js");
      const from = storeLocation(flags.from ?? agentStore());
      const to = storeLocation(flags.to);
      if (!flags.json) process.stderr.write(`copying the task store of ${describeLocation(from)} into ${describeLocation(to)}…\n`);
      const onTable = (copied: { table: string; rows: number }) => {
        if (!flags.json && process.stderr.isTTY && copied.rows > 0) process.stderr.write(`  ${copied.table}: ${copied.rows.toLocaleString("en-US")} rows\n`);
      };
      const report = await copyStore(from, to, { onTable, move: flags.move === true }).catch((error: unknown) => {
        // What the user can mend (a running agent, a store that is not new, versions apart): usage, not a failure.
        throw error instanceof StoreCopyError || error instanceof DataDirInUseError ? new ClientError(error.message, EXIT.usage) : error;
      });
      if (flags.json) return printJson(report);
      const rows = report.tables.filter((t) => t.rows > 0).map((t) => [t.table, t.rows.toLocaleString("en-US")]);
      printText(`${table(["table", "rows"], rows)}\n`);
      const next = to.kind === "postgres" ? `start the agents with DATABASE_URL=${report.to}` : `start the agent with TASK_DATA_DIR=${report.to}`;
      printText(`copied ${report.tasks.toLocaleString("en-US")} tasks (${rows.length} tables with rows, schema version ${report.schemaVersion}) in ${(report.ms / 1000).toFixed(1)} s; ${next}${from.kind === "dir" && to.kind === "postgres" ? ` (its TASK_DATA_DIR keeps the documents of ${report.from})` : ""}\n`);
      if (report.moved) printText(`the old store in ${report.from} is marked moved: an agent started there without DATABASE_URL refuses to (remove ${report.from}/store/moved.json to run on it anyway)\n`);
      else if (from.kind === "dir") printNotice(`the old store in ${report.from} is unchanged: an agent started on it again would run its pending tasks and schedules a second time (--move marks it so that none starts there)\n`);
    });
}

/** The agent's own store as its settings name it: DATABASE_URL, else TASK_DATA_DIR. */
function agentStore(): string {
  const config = loadConfig();
  return config.DATABASE_URL ?? config.dataDir;
}
