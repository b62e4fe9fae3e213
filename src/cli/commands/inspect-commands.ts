/** `ph-tasks list`, `show <id>`, `priority <id> <n>`, `cancel <id>|--all`, `retry <id>|--all`: one request each. */
import type { Command } from "commander";
import { z } from "zod";
import { ApiTaskSchema, ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { describeTask, taskRows } from "../format.js";
import { AttemptsBody, attemptLines } from "../attempt-lines.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

const TaskBody = z.object({ task: ApiTaskSchema });

export function registerInspectCommands(program: Command): void {
  program
    .command("list")
    .description("recent tasks, newest first")
    .option("--status <list>", "filter: pending,running,completed,failed,cancelled (comma-separated)")
    .option("--type <type>", "filter by task type")
    .option("--document <id>", "filter by source document")
    .option("--drive <id>", "filter by source drive")
    .option("--since <when>", "created since: an ISO date-time or a time ago (2h, 7d)")
    .option("--until <when>", "created before: the same")
    .option("--search <text>", "title contains (ignoring case)")
    .option("--tag <tag>", "carries this tag")
    .option("--by <name>", "asked for by this person (a name of API_USERS or of a named TASK_AUTHORIZED_WRITERS key)")
    .option("--limit <n>", "how many", "20")
    .option("--offset <n>", "skip this many", "0")
    .option("--json", "print JSON")
    .action(async (flags: { status?: string; type?: string; document?: string; drive?: string; since?: string; until?: string; search?: string; tag?: string; by?: string; limit: string; offset: string; json?: boolean }, command: Command) => {
      const query = new URLSearchParams({ limit: flags.limit, offset: flags.offset });
      if (flags.status) query.set("status", flags.status);
      if (flags.type) query.set("type", flags.type);
      if (flags.document) query.set("documentId", flags.document);
      if (flags.drive) query.set("driveId", flags.drive);
      if (flags.since) query.set("since", flags.since);
      if (flags.until) query.set("until", flags.until);
      if (flags.search) query.set("q", flags.search);
      if (flags.tag) query.set("tag", flags.tag);
      if (flags.by) query.set("by", flags.by);
      const page = await clientFor(command).request("GET", `/api/tasks?${query.toString()}`, z.object({ tasks: z.array(ApiTaskSchema), total: z.number(), totalCapped: z.boolean().optional() }));
      if (flags.json) return printJson(page);
      printText(`${taskRows(page.tasks)}\n${page.tasks.length} of ${page.total}${page.totalCapped ? "+" : ""} task(s)\n`);
    });

  program
    .command("show")
    .description("one task in detail, with its attempts (worker, start, time taken, outcome and why)")
    .argument("<id>", "task id")
    .option("--json", "print the task object as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const { task } = await client.request("GET", `/api/tasks/${encodeURIComponent(id)}`, TaskBody);
      if (flags.json) return printJson(task);
      const { attempts } = await client.request("GET", `/api/tasks/${encodeURIComponent(id)}/attempts`, AttemptsBody);
      printText(`${describeTask(task)}\n${attemptLines(attempts)}\n`);
    });

  const BulkBody = z.object({ retried: z.array(z.string()).optional(), cancelled: z.array(z.string()).optional(), skipped: z.array(z.string()), more: z.boolean(), dryRun: z.boolean() });
  /** `cancel` / `retry`: one task by id, or with --all every task the filters match. */
  const oneOrMany = (verb: "cancel" | "retry", description: string, statuses: string, printOne: (task: z.infer<typeof ApiTaskSchema>) => string) =>
    program
      .command(verb)
      .description(description)
      .argument("[id]", "task id (or --all with filters)")
      .option("--all", `every task the filters match (default status: ${statuses.split(",")[0]})`)
      .option("--status <list>", `with --all: ${statuses} (comma-separated)`)
      .option("--type <type>", "with --all: only this task type")
      .option("--drive <id>", "with --all: only this source drive")
      .option("--document <id>", "with --all: only this source document")
      .option("--tag <tag>", "with --all: only tasks with this tag")
      .option("--by <name>", "with --all: only tasks this person asked for")
      .option("--limit <n>", "with --all: at most this many (newest first; 1–1000)", "100")
      .option("--dry-run", "with --all: only list the tasks it would act on")
      .option("--json", "print JSON")
      .action(async (id: string | undefined, flags: { all?: boolean; status?: string; type?: string; drive?: string; document?: string; tag?: string; by?: string; limit: string; dryRun?: boolean; json?: boolean }, command: Command) => {
        const client = clientFor(command);
        if (id !== undefined && flags.all) throw new ClientError(`${verb}: give a task id or --all, not both`, EXIT.usage);
        if (id !== undefined) {
          const { task } = await client.request("POST", `/api/tasks/${encodeURIComponent(id)}/${verb}`, TaskBody);
          if (flags.json) return printJson(task);
          return void printText(`${printOne(task)}\n`);
        }
        if (!flags.all) throw new ClientError(`${verb}: give a task id, or --all (with --type, --drive, --document, --tag, --by, --status to choose)`, EXIT.usage);
        const body = {
          ...(flags.status ? { status: flags.status.split(",").filter(Boolean) } : {}),
          ...(flags.type ? { type: flags.type } : {}),
          ...(flags.drive ? { driveId: flags.drive } : {}),
          ...(flags.document ? { documentId: flags.document } : {}),
          ...(flags.tag ? { tag: flags.tag } : {}),
          ...(flags.by ? { by: flags.by } : {}),
          limit: Number(flags.limit),
          dryRun: flags.dryRun === true,
        };
        const outcome = await client.request("POST", `/api/tasks/${verb}`, BulkBody, body);
        if (flags.json) return printJson(outcome);
        const ids = (verb === "retry" ? outcome.retried : outcome.cancelled) ?? [];
        const done = verb === "retry" ? "retried" : "cancelled";
        const lines = [
          ...ids,
          `${ids.length} task(s) ${outcome.dryRun ? `would be ${done}` : done}${outcome.skipped.length ? `, ${outcome.skipped.length} skipped (changed meanwhile)` : ""}${outcome.more ? "; more match: run it again" : ""}`,
        ];
        printText(`${lines.join("\n")}\n`);
      });

  program
    .command("priority")
    .description("give a waiting task a new priority (0-100; higher runs first); the time it waited still counts")
    .argument("<id>", "task id")
    .argument("<priority>", "0-100")
    .option("--json", "print the task object as JSON")
    .action(async (id: string, priority: string, flags: { json?: boolean }, command: Command) => {
      const value = Number(priority);
      if (!/^\d+$/.test(priority) || value > 100) throw new ClientError(`priority: expected a whole number from 0 to 100, got '${priority}'`, EXIT.usage);
      const { task } = await clientFor(command).request("PATCH", `/api/tasks/${encodeURIComponent(id)}`, TaskBody, { priority: value });
      if (flags.json) return printJson(task);
      printText(`${task.id} priority ${task.priority}\n`);
    });

  oneOrMany("cancel", "cancel a queued or running task, or --all that match", "pending,running", (task) => `${task.id} ${task.status === "running" ? "cancelling" : task.status}`);
  oneOrMany("retry", "run a failed or cancelled task again, or --all that match", "failed,cancelled", (task) => `${task.id} ${task.status}`);
}
