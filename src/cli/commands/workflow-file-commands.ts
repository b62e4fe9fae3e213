/**
 * `ph-tasks export` and `ph-tasks apply <file>`: an agent's workflows — templates, schedules,
 * inbound hooks, outbound webhooks, and the rate limits and concurrency caps per task type (workflow-type-settings.ts) —
 * as one JSON file to keep in git and apply to any agent.
 * Apply is declarative and idempotent: each item is created, changed to match (fields left out take
 * their defaults), or left alone when it matches; `--prune` removes the items of the kinds the file
 * lists that it does not name. Templates go first (schedules and hooks may name one). An item the
 * agent refuses is reported with its fields and the rest are still applied; the exit code says so.
 * Secrets are never exported: a hook or webhook created here prints its new secret once.
 */
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import type { Command } from "commander";
import { z } from "zod";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { parseDuration } from "../../config.js";
import { formatFieldErrors, parseWith } from "../../validation.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";
import { applyTypeSettings, CONCURRENCY, ConcurrencyItemSchema, currentTypeSettings, RATE_LIMITS, RateLimitItemSchema } from "./workflow-type-settings.js";
import { HOOK_SIGNINGS } from "../../store/sql/hooks/hook-row.js";

const Task = z.record(z.string(), z.unknown());
const Name = z.string().min(1);
const END_EVENTS = ["completed", "failed", "cancelled"];

/** A webhook's rate limit in the file: `per` in ms or as a duration (1m), compared in ms (one the agent refuses stays as written). */
const WebhookRateSchema = z.strictObject({ max: z.number(), per: z.union([z.number(), z.string()]).transform((per) => (typeof per === "string" ? (parseDuration(per) ?? per) : per)) });

/** Each kind: its items' declarative fields with the defaults the agent gives them. */
const KINDS = {
  templates: z.strictObject({ name: Name, description: z.string().default(""), task: Task }),
  schedules: z.strictObject({ name: Name, cron: z.string(), timezone: z.string().default("UTC"), overlap: z.string().default("skip"), enabled: z.boolean().default(true), task: Task }),
  hooks: z.strictObject({ name: Name, task: Task, enabled: z.boolean().default(true), signing: z.enum(HOOK_SIGNINGS).default("any"), rateLimit: WebhookRateSchema.nullable().default(null) }),
  webhooks: z.strictObject({ name: Name, url: z.string(), events: z.array(z.string()).default(END_EVENTS), taskType: z.string().nullable().default(null), driveId: z.string().nullable().default(null), enabled: z.boolean().default(true), rateLimit: WebhookRateSchema.nullable().default(null) }),
} as const;
type Kind = keyof typeof KINDS;
const ORDER: Kind[] = ["templates", "schedules", "hooks", "webhooks"];
const SINGULAR: Record<Kind, string> = { templates: "template", schedules: "schedule", hooks: "hook", webhooks: "webhook" };

const WorkflowFileSchema = z.strictObject({
  ...(Object.fromEntries(ORDER.map((kind) => [kind, z.array(KINDS[kind]).optional()])) as { [K in Kind]: z.ZodOptional<z.ZodArray<(typeof KINDS)[K]>> }),
  rateLimits: z.array(RateLimitItemSchema).optional(),
  concurrency: z.array(ConcurrencyItemSchema).optional(),
});
/** The settings keyed by task type: the file's field, and the kind. */
const TYPE_SETTINGS = [["rateLimits", RATE_LIMITS], ["concurrency", CONCURRENCY]] as const;
type Item = Record<string, unknown> & { name: string };

/** A webhook's rate limit as the API shows it ({ max, perMs, used, ... }) → as the file writes it. */
function fileRate(value: unknown): { max: number; per: number } | null {
  const parsed = z.object({ max: z.number(), perMs: z.number() }).nullable().catch(null).parse(value ?? null);
  return parsed ? { max: parsed.max, per: parsed.perMs } : null;
}

/** The agent's items of a kind, reduced to their declarative fields. */
async function current(client: AgentClient, kind: Kind): Promise<Item[]> {
  const answer = await client.request("GET", `/api/${kind}`, z.record(z.string(), z.array(z.looseObject({ name: z.string() }))));
  const fields = Object.keys(KINDS[kind].shape);
  return (answer[kind] ?? []).map((item) => Object.fromEntries(fields.map((f) => [f, f === "rateLimit" ? fileRate(item[f]) : item[f]])) as Item);
}

/** One item brought to match; returns what happened. */
async function applyItem(client: AgentClient, kind: Kind, wanted: Item, existing: Item | undefined, dryRun: boolean): Promise<string> {
  const path = `/api/${kind}/${encodeURIComponent(wanted.name)}`;
  if (existing) {
    const changed = Object.keys(wanted).filter((f) => !isDeepStrictEqual(wanted[f], existing[f]));
    if (changed.length === 0) return "unchanged";
    if (!dryRun) {
      if (kind === "templates") await client.request("PUT", path, z.unknown(), { task: wanted.task, description: wanted.description });
      else await client.request("PATCH", path, z.unknown(), Object.fromEntries(changed.map((f) => [f, wanted[f]])));
    }
    return `${dryRun ? "would be updated" : "updated"} (${changed.join(", ")})`;
  }
  if (dryRun) return "would be created";
  if (kind === "templates") {
    await client.request("PUT", path, z.unknown(), { task: wanted.task, description: wanted.description });
    return "created";
  }
  const created = await client.request("POST", `/api/${kind}`, z.record(z.string(), z.looseObject({ secret: z.string().optional() })), wanted);
  const secret = created[SINGULAR[kind]]?.secret;
  return secret ? `created — secret ${secret} (shown once)` : "created";
}

function readWorkflowFile(file: string) {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ClientError(`apply: cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ClientError(`apply: ${file} is not valid JSON (${(error as Error).message})`, EXIT.usage);
  }
  const parsed = parseWith(WorkflowFileSchema, json);
  if (!parsed.ok) throw new ClientError(`apply: ${file}:\n${formatFieldErrors(parsed.errors)}`, EXIT.usage);
  for (const kind of ORDER) {
    const names = (parsed.value[kind] ?? []).map((item) => item.name);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice) throw new ClientError(`apply: ${file}: ${kind} names '${twice}' twice`, EXIT.usage);
  }
  for (const [field] of TYPE_SETTINGS) {
    const types = (parsed.value[field] ?? []).map((item) => item.type);
    const twice = types.find((type, i) => types.indexOf(type) !== i);
    if (twice) throw new ClientError(`apply: ${file}: ${field} names type '${twice}' twice`, EXIT.usage);
  }
  return parsed.value;
}

export function registerWorkflowFileCommands(program: Command): void {
  program
    .command("export")
    .description("print the agent's templates, schedules, hooks, webhooks, rate limits and concurrency caps as a workflow file (no secrets), for ph-tasks apply")
    .action(async (_flags: unknown, command: Command) => {
      const client = clientFor(command);
      const file: Record<string, unknown[]> = {};
      for (const kind of ORDER) file[kind] = (await current(client, kind)).sort((a, b) => a.name.localeCompare(b.name));
      for (const [field, setting] of TYPE_SETTINGS) file[field] = await currentTypeSettings(client, setting);
      printJson(file);
    });

  program
    .command("apply")
    .description("make the agent's workflows match a workflow file (ph-tasks export writes one): create, change, leave alone; --prune removes the rest")
    .argument("<file>", "the workflow file (JSON: templates, schedules, hooks, webhooks, rateLimits, concurrency)")
    .option("--dry-run", "only say what would change")
    .option("--prune", "also remove the items of the kinds the file lists that it does not name")
    .action(async (file: string, flags: { dryRun?: boolean; prune?: boolean }, command: Command) => {
      const workflows = readWorkflowFile(file);
      const client = clientFor(command);
      let refused = 0;
      for (const kind of ORDER) {
        const wanted = workflows[kind] as Item[] | undefined;
        if (!wanted) continue; // a kind the file does not list is not managed by it
        const existing = new Map((await current(client, kind)).map((item) => [item.name, item]));
        for (const item of wanted) {
          let outcome: string;
          try {
            outcome = await applyItem(client, kind, item, existing.get(item.name), flags.dryRun === true);
          } catch (error) {
            if (!(error instanceof ClientError) || error.exitCode !== EXIT.usage) throw error;
            refused++;
            outcome = `refused: ${error.message}`; // its field lines come indented
          }
          printText(`${SINGULAR[kind]} ${item.name}: ${outcome}\n`);
        }
        if (!flags.prune) continue;
        const named = new Set(wanted.map((item) => item.name));
        for (const name of existing.keys()) {
          if (named.has(name)) continue;
          if (!flags.dryRun) await client.request("DELETE", `/api/${kind}/${encodeURIComponent(name)}`, z.unknown());
          printText(`${SINGULAR[kind]} ${name}: ${flags.dryRun ? "would be removed" : "removed"}\n`);
        }
      }
      for (const [field, setting] of TYPE_SETTINGS) {
        const wanted = workflows[field];
        if (wanted) refused += await applyTypeSettings(client, setting, wanted, { dryRun: flags.dryRun === true, prune: flags.prune === true, write: (line) => printText(line) });
      }
      if (refused > 0) throw new ClientError(`apply: the agent refused ${refused} item(s); the rest are applied`, EXIT.usage);
    });
}
