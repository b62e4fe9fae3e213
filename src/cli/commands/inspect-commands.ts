/** `ph-tasks list`, `show <id>`, `cancel <id>`, `retry <id>`: one request each. */
import type { Command } from "commander";
import { z } from "zod";
import { ApiTaskSchema } from "../client.js";
import { describeTask, taskRows } from "../format.js";
import { clientFor, printJson } from "./client-options.js";

const TaskBody = z.object({ task: ApiTaskSchema });

export function registerInspectCommands(program: Command): void {
  program
    .command("list")
    .description("recent tasks, newest first")
    .option("--status <list>", "filter: pending,running,completed,failed,cancelled (comma-separated)")
    .option("--type <type>", "filter by task type")
    .option("--document <id>", "filter by source document")
    .option("--drive <id>", "filter by source drive")
    .option("--limit <n>", "how many", "20")
    .option("--offset <n>", "skip this many", "0")
    .option("--json", "print JSON")
    .action(async (flags: { status?: string; type?: string; document?: string; drive?: string; limit: string; offset: string; json?: boolean }, command: Command) => {
      const query = new URLSearchParams({ limit: flags.limit, offset: flags.offset });
      if (flags.status) query.set("status", flags.status);
      if (flags.type) query.set("type", flags.type);
      if (flags.document) query.set("documentId", flags.document);
      if (flags.drive) query.set("driveId", flags.drive);
      const page = await clientFor(command).request("GET", `/api/tasks?${query.toString()}`, z.object({ tasks: z.array(ApiTaskSchema), total: z.number(), totalCapped: z.boolean().optional() }));
      if (flags.json) return printJson(page);
      process.stdout.write(`${taskRows(page.tasks)}\n${page.tasks.length} of ${page.total}${page.totalCapped ? "+" : ""} task(s)\n`);
    });

  program
    .command("show")
    .description("one task in detail")
    .argument("<id>", "task id")
    .option("--json", "print the task object as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { task } = await clientFor(command).request("GET", `/api/tasks/${encodeURIComponent(id)}`, TaskBody);
      if (flags.json) return printJson(task);
      process.stdout.write(`${describeTask(task)}\n`);
    });

  program
    .command("cancel")
    .description("cancel a queued or running task")
    .argument("<id>", "task id")
    .option("--json", "print the task object as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { task } = await clientFor(command).request("POST", `/api/tasks/${encodeURIComponent(id)}/cancel`, TaskBody);
      if (flags.json) return printJson(task);
      process.stdout.write(`${task.id} ${task.status === "running" ? "cancelling" : task.status}\n`);
    });

  program
    .command("retry")
    .description("run a failed or cancelled task again")
    .argument("<id>", "task id")
    .option("--json", "print the task object as JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { task } = await clientFor(command).request("POST", `/api/tasks/${encodeURIComponent(id)}/retry`, TaskBody);
      if (flags.json) return printJson(task);
      process.stdout.write(`${task.id} ${task.status}\n`);
    });
}
