/**
 * `ph-tasks hook add|list|show|rotate|pause|resume|rm`: inbound webhooks on the running agent.
 * `add` and `rotate` print the secret, which the agent shows only then.
 */
import type { Command } from "commander";
import { z } from "zod";
import { clientFor, printJson } from "./client-options.js";
import { paramOptions, taskTemplate, type TemplateFlags } from "./task-template-flags.js";

const ApiHookSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  enabled: z.boolean(),
  receivedCount: z.number(),
  rejectedCount: z.number(),
  lastReceivedAt: z.string().nullable(),
  lastTaskId: z.string().nullable(),
  lastError: z.string().nullable(),
  secret: z.string().optional(),
});
type ApiHook = z.infer<typeof ApiHookSchema>;
const OneHook = z.object({ hook: ApiHookSchema });

function describe(hook: ApiHook, base: string): string {
  return [
    `${hook.name}  ${hook.enabled ? "active" : "paused"}  POST ${base}${hook.path}`,
    `  received ${hook.receivedCount}, rejected ${hook.rejectedCount}, last ${hook.lastReceivedAt ?? "–"}${hook.lastTaskId ? ` (task ${hook.lastTaskId})` : ""}${hook.lastError ? `\n  last error: ${hook.lastError}` : ""}`,
    ...(hook.secret ? [`  secret ${hook.secret}  (shown once: sign each body with HMAC-SHA256, header X-Signature-256: sha256=<hex>)`] : []),
  ].join("\n");
}

export function registerHookCommands(program: Command): void {
  const hook = program.command("hook").description("inbound webhooks that make tasks: POST /hooks/<name>, signed");
  const path = (id: string) => `/api/hooks/${encodeURIComponent(id)}`;

  paramOptions(hook
    .command("add"))
    .description("a webhook whose signed deliveries make a task from a template")
    .argument("<name>", "unique name (its URL is /hooks/<name>)")
    .option("--task <json>", 'the task request each delivery makes; "{{body.<path>}}", "{{query.<name>}}", "{{headers.<name>}}" are filled in')
    .option("--task-file <path>", "the same, from a JSON file")
    .option("--template <name>", "or a saved template (ph-tasks template list), with --param / --param-json; their values may hold the same placeholders")
    .option("--secret <secret>", "the signing secret (at least 16 characters); made up when absent")
    .option("--json", "print the hook as JSON")
    .action(async (name: string, flags: TemplateFlags & { task?: string; taskFile?: string; secret?: string; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const body = { name, task: taskTemplate(flags), ...(flags.secret !== undefined ? { secret: flags.secret } : {}) };
      const { hook: created } = await client.request("POST", "/api/hooks", OneHook, body);
      if (flags.json) return printJson(created);
      process.stdout.write(`${describe(created, client.baseUrl)}\n`);
    });

  hook
    .command("list")
    .description("every hook, by name")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const { hooks } = await client.request("GET", "/api/hooks", z.object({ hooks: z.array(ApiHookSchema) }));
      if (flags.json) return printJson(hooks);
      process.stdout.write(hooks.length === 0 ? "no hooks\n" : `${hooks.map((h) => describe(h, client.baseUrl)).join("\n")}\n`);
    });

  hook
    .command("show")
    .description("one hook")
    .argument("<name>", "name or id")
    .option("--json", "print JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const { hook: found } = await client.request("GET", path(id), OneHook);
      if (flags.json) return printJson(found);
      process.stdout.write(`${describe(found, client.baseUrl)}\n`);
    });

  const change = (verb: string, description: string, body: Record<string, unknown>) =>
    hook
      .command(verb)
      .description(description)
      .argument("<name>", "name or id")
      .action(async (id: string, _flags: unknown, command: Command) => {
        const client = clientFor(command);
        const { hook: changed } = await client.request("PATCH", path(id), OneHook, body);
        process.stdout.write(`${describe(changed, client.baseUrl)}\n`);
      });
  change("rotate", "make a new secret (printed once); the old one stops working", { rotateSecret: true });
  change("pause", "refuse deliveries (404) until resumed", { enabled: false });
  change("resume", "accept deliveries again", { enabled: true });

  hook
    .command("rm")
    .description("remove a hook (the tasks it made stay)")
    .argument("<name>", "name or id")
    .action(async (id: string, _flags: unknown, command: Command) => {
      await clientFor(command).request("DELETE", path(id), z.unknown());
      process.stdout.write(`${id} removed\n`);
    });
}
