/**
 * `ph-tasks hook add|preview|list|show|limit|rotate|timestamped-only|any-signature|pause|resume|rm`: inbound webhooks on the running agent.
 * `add` and `rotate` print the secret, which the agent shows only then.
 */
import type { Command } from "commander";
import { z } from "zod";
import type { AgentClient } from "../client.js";
import { registerHookPreview } from "./hook-preview.js";
import { rateArgument } from "./rates.js";
import { ResourceCommands } from "./resource-commands.js";
import { throttleLines, WebhookThrottleFields } from "./webhook-throttle.js";
import { paramOptions, taskOrPipeline, type TemplateFlags } from "./task-template-flags.js";

const ApiHookSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  enabled: z.boolean(),
  signing: z.string(),
  rateLimit: WebhookThrottleFields.rateLimit,
  previousSecretUntil: z.string().nullable().optional(),
  receivedCount: z.number(),
  rejectedCount: z.number(),
  lastReceivedAt: z.string().nullable(),
  lastTaskId: z.string().nullable(),
  lastPipelineId: z.string().nullable().optional(),
  lastError: z.string().nullable(),
  secret: z.string().optional(),
});
type ApiHook = z.infer<typeof ApiHookSchema>;

function describe(hook: ApiHook, client: AgentClient): string {
  const base = client.baseUrl;
  return [
    `${hook.name}  ${hook.enabled ? "active" : "paused"}  POST ${base}${hook.path}${hook.signing === "timestamped" ? "  (timestamped signatures only)" : ""}`,
    `  received ${hook.receivedCount}, rejected ${hook.rejectedCount}, last ${hook.lastReceivedAt ?? "–"}${hook.lastTaskId ? ` (task ${hook.lastTaskId})` : ""}${hook.lastPipelineId ? ` (pipeline ${hook.lastPipelineId})` : ""}${hook.lastError ? `\n  last error: ${hook.lastError}` : ""}`,
    ...throttleLines(hook).map((line) => `  ${line}`),
    ...(hook.previousSecretUntil ? [`  the previous secret is also accepted until ${hook.previousSecretUntil}`] : []),
    ...(hook.secret ? [`  secret ${hook.secret}  (shown once: sign with it as Standard Webhooks do — webhook-id, webhook-timestamp, webhook-signature${hook.signing === "timestamped" ? "" : " — or each body with HMAC-SHA256, header X-Signature-256: sha256=<hex>"})`] : []),
  ].join("\n");
}

export function registerHookCommands(program: Command): void {
  const hook = program.command("hook").description("inbound webhooks that make tasks: POST /hooks/<name>, signed");
  const hooks = new ResourceCommands({ group: hook, collection: "/api/hooks", singular: "hook", plural: "hooks", schema: ApiHookSchema, describe });

  paramOptions(hook
    .command("add"))
    .description("a webhook whose signed deliveries make a task from a template")
    .argument("<name>", "unique name (its URL is /hooks/<name>)")
    .option("--task <json>", 'the task request each delivery makes; "{{body.<path>}}", "{{query.<name>}}", "{{headers.<name>}}" are filled in')
    .option("--task-file <path>", "the same, from a JSON file")
    .option("--template <name>", "or a saved template (ph-tasks template list), with --param / --param-json; their values may hold the same placeholders")
    .option("--pipeline-file <path>", "or a pipeline (JSON, as ph-tasks pipeline run takes it) that each delivery makes")
    .option("--secret <secret>", "the signing secret (at least 16 characters); made up when absent")
    .option("--rate <rate>", "at most so many tasks per window from its deliveries, across all workers, e.g. 30/min (beyond: 429 with Retry-After)")
    .option("--timestamped-only", "refuse GitHub's body-only signature: only Standard Webhooks ones, whose signed id and time stop a captured delivery from being replayed")
    .option("--json", "print the hook as JSON")
    .action(async (name: string, flags: TemplateFlags & { task?: string; taskFile?: string; pipelineFile?: string; secret?: string; rate?: string; timestampedOnly?: boolean; json?: boolean }, command: Command) => {
      const body = { name, task: await taskOrPipeline(flags), ...(flags.secret !== undefined ? { secret: flags.secret } : {}), ...(flags.timestampedOnly ? { signing: "timestamped" } : {}), ...(flags.rate ? { rateLimit: rateArgument(flags.rate, "tasks") } : {}) };
      await hooks.requestOne(command, "POST", "/api/hooks", body, flags.json);
    });

  registerHookPreview(hook);

  hooks
    .list("every hook, by name")
    .show("one hook")
    .limit("make at most so many tasks per window from a hook's deliveries, across all workers (e.g. 30/min; beyond: 429 with Retry-After); --off lifts it", "tasks")
    .rotate("make a new secret (printed once); the old one stops working, or after --grace")
    .change("timestamped-only", "take only timestamped (Standard Webhooks) signatures: a captured delivery cannot be replayed", { signing: "timestamped" })
    .change("any-signature", "take GitHub's body-only signature too (for senders that cannot sign a timestamp)", { signing: "any" })
    .change("pause", "refuse deliveries (404) until resumed", { enabled: false })
    .change("resume", "accept deliveries again", { enabled: true })
    .remove("remove a hook (the tasks it made stay)");
}
