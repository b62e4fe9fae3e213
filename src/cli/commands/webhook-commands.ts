/**
 * `ph-tasks webhook add|list|show|deliveries|ping|redeliver|limit|rotate|pause|resume|rm`: outbound webhooks
 * on the running agent — where task events (ends; on request starts and retries) are POSTed. `add` and `rotate` print the signing
 * secret, which the agent shows only then.
 */
import type { Command } from "commander";
import { z } from "zod";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { rateArgument } from "./rates.js";
import { throttleLines, WebhookThrottleFields } from "./webhook-throttle.js";
import { ResourceCommands } from "./resource-commands.js";

const ApiWebhookSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  taskType: z.string().nullable(),
  driveId: z.string().nullable(),
  enabled: z.boolean(),
  deliveries: z.object({ pending: z.number(), delivered: z.number(), dead: z.number() }),
  ...WebhookThrottleFields,
  previousSecretUntil: z.string().nullable().optional(),
  secret: z.string().optional(),
});
type ApiWebhook = z.infer<typeof ApiWebhookSchema>;

const ApiDeliverySchema = z.looseObject({
  id: z.string(),
  taskId: z.string().nullable(),
  /** For a pipeline.* event (agents from schema 32). */
  pipelineId: z.string().optional(),
  event: z.string(),
  status: z.string(),
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
type ApiDelivery = z.infer<typeof ApiDeliverySchema>;

function describe(webhook: ApiWebhook): string {
  const filters = [webhook.taskType ? `type ${webhook.taskType}` : "", webhook.driveId ? `drive ${webhook.driveId}` : ""].filter(Boolean).join(", ");
  const { pending, delivered, dead } = webhook.deliveries;
  return [
    `${webhook.name}  ${webhook.enabled ? "active" : "paused"}  POST ${webhook.url}`,
    `  on ${webhook.events.join(", ")}${filters ? ` (${filters})` : ""}; delivered ${delivered}, pending ${pending}, dead ${dead}`,
    ...throttleLines(webhook).map((line) => `  ${line}`),
    ...(webhook.previousSecretUntil ? [`  signed with the previous secret too until ${webhook.previousSecretUntil}`] : []),
    ...(webhook.secret ? [`  secret ${webhook.secret}  (shown once: each delivery is signed with it — X-Signature-256: sha256=<hex HMAC-SHA256 of the body>, and Standard Webhooks' webhook-signature)`] : []),
  ].join("\n");
}

function describeDelivery(d: ApiDelivery): string {
  const when = d.status === "delivered" ? `at ${d.deliveredAt ?? "?"}` : d.status === "pending" ? `next attempt ${d.nextAttemptAt ?? "?"}` : "given up";
  return `${d.id}  ${d.status}  ${d.event}${d.taskId ? `  task ${d.taskId}` : ""}${d.pipelineId ? `  pipeline ${d.pipelineId}` : ""}  attempts ${d.attempts}  ${when}${d.lastError ? `\n  last error: ${d.lastError}` : ""}`;
}

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

/** A --rate flag or argument: "10/min" → { max, per } for the API. */
export function registerWebhookCommands(program: Command): void {
  const webhook = program.command("webhook").description("outbound webhooks: POST task events (its end; on request its start and retries) to a URL, signed");
  const webhooks = new ResourceCommands({ group: webhook, collection: "/api/webhooks", singular: "webhook", plural: "webhooks", schema: ApiWebhookSchema, describe });
  const path = (id: string) => webhooks.path(id);

  webhook
    .command("add")
    .description("POST each matching task's end to a URL")
    .argument("<name>", "unique name")
    .requiredOption("--to <url>", "the http(s) URL deliveries are POSTed to")
    .option("--on <events>", "comma-separated: completed, failed, cancelled, started, retrying (default: the first three, a task's end); pipeline.completed, pipeline.failed, pipeline.cancelled, pipeline.blocked; budget.spent, budget.available, budget.nearly_spent (TASK_BUDGET_USD_PER_DAY; TASK_BUDGET_WARN_AT_PERCENT); budget.drive_spent, budget.drive_available, budget.drive_nearly_spent (a drive's budget); budget.changed (a budget set, changed or removed with ph-tasks budget)", list)
    .option("--type <type>", "only tasks of this type")
    .option("--drive <driveId>", "only tasks of this drive")
    .option("--secret <secret>", "the signing secret (at least 16 characters); made up when absent")
    .option("--rate <rate>", "at most so many deliveries per window, across all workers, e.g. 1/s, 30/min")
    .option("--json", "print the webhook as JSON")
    .action(async (name: string, flags: { to: string; on?: string[]; type?: string; drive?: string; secret?: string; rate?: string; json?: boolean }, command: Command) => {
      const body = { name, url: flags.to, ...(flags.on ? { events: flags.on } : {}), ...(flags.type ? { taskType: flags.type } : {}), ...(flags.drive ? { driveId: flags.drive } : {}), ...(flags.secret !== undefined ? { secret: flags.secret } : {}), ...(flags.rate ? { rateLimit: rateArgument(flags.rate, "deliveries") } : {}) };
      await webhooks.requestOne(command, "POST", "/api/webhooks", body, flags.json);
    });

  webhooks.list("every webhook, by name");

  webhook
    .command("show")
    .description("one webhook and its latest deliveries")
    .argument("<name>", "name or id")
    .option("--json", "print JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const found = await client.request("GET", path(id), webhooks.one);
      const { deliveries } = await client.request("GET", `${path(id)}/deliveries?limit=10`, z.object({ deliveries: z.array(ApiDeliverySchema) }));
      if (flags.json) return printJson({ ...found, latestDeliveries: deliveries });
      printText(`${describe(found)}\n${deliveries.map((d) => `  ${describeDelivery(d).replace(/\n/g, "\n  ")}`).join("\n")}${deliveries.length ? "\n" : ""}`);
    });

  webhook
    .command("deliveries")
    .description("a webhook's deliveries, newest first")
    .argument("<name>", "name or id")
    .option("--status <status>", "only pending, delivered or dead ones")
    .option("--limit <n>", "at most this many (default 50)")
    .option("--json", "print JSON")
    .action(async (id: string, flags: { status?: string; limit?: string; json?: boolean }, command: Command) => {
      const query = new URLSearchParams({ ...(flags.status ? { status: flags.status } : {}), ...(flags.limit ? { limit: flags.limit } : {}) }).toString();
      const { deliveries } = await clientFor(command).request("GET", `${path(id)}/deliveries${query ? `?${query}` : ""}`, z.object({ deliveries: z.array(ApiDeliverySchema) }));
      if (flags.json) return printJson(deliveries);
      printText(deliveries.length === 0 ? "no deliveries\n" : `${deliveries.map(describeDelivery).join("\n")}\n`);
    });

  webhook
    .command("ping")
    .description('send a "ping" delivery now, about no task, to check the receiver; then `webhook show` tells how it went')
    .argument("<name>", "name or id")
    .action(async (id: string, _flags: unknown, command: Command) => {
      const { delivery } = await clientFor(command).request("POST", `${path(id)}/ping`, z.object({ delivery: ApiDeliverySchema }));
      printText(`${describeDelivery(delivery)}\n`);
    });

  webhook
    .command("redeliver")
    .description("send a delivery again now (a dead one after the receiver was fixed), with the same delivery id")
    .argument("<name>", "name or id of the webhook")
    .argument("<delivery>", "the delivery's id")
    .action(async (id: string, delivery: string, _flags: unknown, command: Command) => {
      const { delivery: again } = await clientFor(command).request("POST", `${path(id)}/deliveries/${encodeURIComponent(delivery)}/redeliver`, z.object({ delivery: ApiDeliverySchema }));
      printText(`${describeDelivery(again)}\n`);
    });

  webhooks
    .limit("send at most so many deliveries per window to a webhook, across all workers (e.g. 1/s); --off lifts it", "deliveries")
    .rotate("make a new signing secret (printed once); with --grace, deliveries are signed with the old one too meanwhile")
    .change("pause", "write no new deliveries and hold the pending ones until resumed", { enabled: false })
    .change("resume", "deliver again, the held ones first", { enabled: true })
    .change("lift", "send again at once, though its receiver answered 429 or 503 (which holds the webhook until the time it named)", { heldUntil: null })
    .remove("remove a webhook and its deliveries");
}
