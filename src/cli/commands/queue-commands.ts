/**
 * `ph-tasks queue pause|resume|limit|concurrency|status`: stop every worker claiming tasks (of some
 * types, or all) and start again; limit how many tasks of a type start per window, or run at once,
 * across every worker.
 * Tasks are still accepted while paused or limited; running ones finish.
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseDuration } from "../../config.js";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { CapsSchema, describeCaps, registerConcurrencyCommand } from "./queue-concurrency.js";
import { describeWindow, parseRate } from "./rates.js";
import { describeThrottles, ThrottledHooksSchema, ThrottledWebhooksSchema } from "./webhook-throttle.js";

const ApiPauseSchema = z.object({ taskType: z.string(), reason: z.string(), pausedAt: z.string() });
type ApiPause = z.infer<typeof ApiPauseSchema>;
const PausesSchema = z.object({ pauses: z.array(ApiPauseSchema) });

const ApiRateLimitSchema = z.object({ taskType: z.string(), max: z.number(), perMs: z.number(), used: z.number(), nextFreeAt: z.string().nullable(), reason: z.string(), setAt: z.string() });
type ApiRateLimit = z.infer<typeof ApiRateLimitSchema>;
const RateLimitsSchema = z.object({ rateLimits: z.array(ApiRateLimitSchema) });

function describeLimits(limits: ApiRateLimit[]): string {
  return limits
    .map((l) => `limited ${l.taskType}  ${l.max}/${describeWindow(l.perMs)}  (${l.used} in the current window${l.nextFreeAt ? `, full until ${l.nextFreeAt}` : ""})${l.reason ? `  ${l.reason}` : ""}\n`)
    .join("");
}

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
      else printText(describe(pauses));
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
      printText(`${resumed.length > 0 ? `resumed ${resumed.join(", ")}` : "nothing was paused"}\n${describe(pauses)}`);
    });

  queue
    .command("limit")
    .description("start at most N tasks of a type per window, across every worker (e.g. 10/min); --off lifts it")
    .argument("<type>", "a task type, e.g. claude-code")
    .argument("[rate]", "starts per window: 10/min, 100/h, 5/30s (windows from 1s to 24h)")
    .option("--off", "lift the type's limit")
    .option("--reason <text>", "why, shown with the limit")
    .option("--json", "print the limit as JSON")
    .action(async (type: string, rate: string | undefined, flags: { off?: boolean; reason?: string; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      if (flags.off) {
        if (rate !== undefined) throw new ClientError("give a rate or --off, not both", EXIT.usage);
        await client.request("DELETE", `/api/queue/rate-limits/${encodeURIComponent(type)}`, z.object({ removed: z.string() }));
        return void printText(`${type}: no rate limit\n`);
      }
      if (rate === undefined) throw new ClientError("give a rate like 10/min (or --off to lift the limit)", EXIT.usage);
      const parsed = parseRate(rate);
      if (!parsed) throw new ClientError(`rate: expected starts per window like 10/min, 100/h or 5/30s, got '${rate}'`, EXIT.usage);
      const body = { ...parsed, ...(flags.reason !== undefined ? { reason: flags.reason } : {}) };
      const { rateLimit } = await client.request("PUT", `/api/queue/rate-limits/${encodeURIComponent(type)}`, z.object({ rateLimit: ApiRateLimitSchema }), body);
      if (flags.json) return printJson(rateLimit);
      printText(describeLimits([rateLimit]));
    });

  registerConcurrencyCommand(queue);

  queue
    .command("status")
    .description("what is paused, the rate limits and the concurrency caps; the webhooks that are rate-limited or held, and the rate-limited hooks")
    .option("--json", "print JSON: { pauses, rateLimits, concurrency, webhooks, hooks } (webhooks: the limited or held ones, { name, rateLimit, held }; hooks: the limited ones, { name, rateLimit })")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      // Five independent reads: asked at once.
      const [{ pauses }, { rateLimits }, { concurrency }, { webhooks }, { hooks }] = await Promise.all([
        client.request("GET", "/api/queue/pauses", PausesSchema),
        client.request("GET", "/api/queue/rate-limits", RateLimitsSchema),
        client.request("GET", "/api/queue/concurrency", CapsSchema),
        client.request("GET", "/api/webhooks", ThrottledWebhooksSchema),
        client.request("GET", "/api/hooks", ThrottledHooksSchema),
      ]);
      const throttled = webhooks.filter((w) => w.rateLimit || w.held);
      const limitedHooks = hooks.filter((h) => h.rateLimit);
      if (flags.json) {
        return printJson({
          pauses, rateLimits, concurrency,
          webhooks: throttled.map(({ name, rateLimit, held }) => ({ name, rateLimit: rateLimit ?? null, held: held ?? null })),
          hooks: limitedHooks.map(({ name, rateLimit }) => ({ name, rateLimit: rateLimit ?? null })),
        });
      }
      printText(describe(pauses) + describeLimits(rateLimits) + describeCaps(concurrency) + describeThrottles("webhook", throttled) + describeThrottles("hook", limitedHooks));
    });
}
