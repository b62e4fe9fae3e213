/**
 * `ph-tasks logs <id> [--follow]`: a task's stored output; with --follow, its live stream until
 * the task ends (a status line on stderr when it is a terminal), exiting 0 / 1 / 130 for
 * completed / failed / cancelled.
 */
import type { Command } from "commander";
import { z } from "zod";
import { ApiTaskSchema, ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { clientFor } from "./client-options.js";
import { readSseEvents } from "../sse-reader.js";
import { forTerminal, printNotice } from "../terminal-text.js";

const LogSchema = z.object({ events: z.array(z.object({ seq: z.number(), kind: z.string(), stream: z.string().nullable(), data: z.string() })), next: z.number() });
const StatusData = z.looseObject({ status: z.string(), attempt: z.number().optional(), error: z.object({ code: z.string(), message: z.string() }).optional() });

function exitFor(status: string): number {
  return status === "completed" ? EXIT.ok : status === "cancelled" ? EXIT.cancelled : EXIT.taskFailed;
}

function writeOutput(stream: string | null, data: string): void {
  (stream === "stderr" ? process.stderr : process.stdout).write(data);
}

class StatusLine {
  private shown = false;
  constructor(private readonly enabled: boolean) {}
  show(text: string): void {
    if (!this.enabled) return;
    process.stderr.write(`\r\x1b[2K${forTerminal(text)}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) process.stderr.write("\r\x1b[2K");
    this.shown = false;
  }
}

/** Reads the SSE stream, reconnecting with Last-Event-ID if it drops before the end; the task's end status. */
export async function followTask(client: AgentClient, id: string): Promise<string> {
  const line = new StatusLine(process.stderr.isTTY === true);
  let lastId = "0";
  let status = "pending";
  const started = Date.now();
  for (let attempt = 0; attempt < 30; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${client.baseUrl}/api/tasks/${encodeURIComponent(id)}/events`, { headers: client.headers({ Accept: "text/event-stream", "Last-Event-ID": lastId }) });
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (res.status === 404) throw new ClientError(`no task with id '${id}'`, EXIT.notFound);
    if (!res.ok || !res.body) throw new ClientError(`cannot follow task: HTTP ${res.status}`, EXIT.taskFailed);
    for await (const event of readSseEvents(res.body)) {
      if (event.id) lastId = event.id;
      if (event.event === "output") {
        const parsed = z.object({ stream: z.string().nullable(), data: z.string() }).safeParse(JSON.parse(event.data));
        if (parsed.success) {
          line.clear();
          writeOutput(parsed.data.stream, parsed.data.data);
        }
      } else if (event.event === "status") {
        const parsed = StatusData.safeParse(JSON.parse(event.data));
        if (parsed.success) status = parsed.data.status;
      } else if (event.event === "end") {
        line.clear();
        return z.object({ status: z.string() }).parse(JSON.parse(event.data)).status;
      }
      line.show(`[ph-tasks] ${id.slice(0, 8)} ${status} ${((Date.now() - started) / 1000).toFixed(0)}s`);
    }
  }
  throw new ClientError("lost the connection to the agent too many times", EXIT.unreachable);
}

export function registerLogsCommand(program: Command): void {
  program
    .command("logs")
    .description("a task's output; --follow streams it live until the task ends")
    .argument("<id>", "task id")
    .option("-f, --follow", "stream until the task ends; exit 0 completed, 1 failed, 130 cancelled")
    .action(async (id: string, flags: { follow?: boolean }, command: Command) => {
      const client = clientFor(command);
      if (flags.follow) {
        const status = await followTask(client, id);
        const { task } = await client.request("GET", `/api/tasks/${encodeURIComponent(id)}`, z.object({ task: ApiTaskSchema }));
        const exit = task.result && typeof task.result === "object" && "exitCode" in task.result ? ` exit=${String((task.result).exitCode)}` : "";
        printNotice(`[ph-tasks] ${status}${exit}${task.error ? ` error=${task.error.code}: ${task.error.message}` : ""}\n`);
        process.exitCode = exitFor(status);
        return;
      }
      await printStoredLog(client, id);
    });
}

/** A task's stored output, page by page, stdout and stderr each to its own. */
export async function printStoredLog(client: AgentClient, id: string): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await client.request("GET", `/api/tasks/${encodeURIComponent(id)}/log?after=${after}`, LogSchema);
    for (const event of page.events) if (event.kind === "output") writeOutput(event.stream, event.data);
    if (page.events.length < 1000) break;
    after = page.next;
  }
}
