/**
 * The workflow file's settings keyed by task type, under /api/queue:
 * - `rateLimits`: `[{ "type": "claude-code", "max": 50, "per": "1m", "reason": "" }]` — `per` is
 *   milliseconds or a duration (30s, 1m, 1h); export writes it with the largest unit that divides it;
 * - `concurrency`: `[{ "type": "claude-code", "max": 2, "reason": "" }]`.
 * Kept apart from the named kinds (templates, schedules, hooks, webhooks): one of these is keyed by
 * its task type, and a type named twice is refused.
 */
import { z } from "zod";
import { parseDuration } from "../../config.js";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";

export const RateLimitItemSchema = z.strictObject({ type: z.string().min(1), max: z.number(), per: z.union([z.number(), z.string()]), reason: z.string().default("") });
export const ConcurrencyItemSchema = z.strictObject({ type: z.string().min(1), max: z.number(), reason: z.string().default("") });
type TypeItem = { type: string; max: number; reason: string; per?: number | string };

/** One setting keyed by type: where it lives in the API, and how its items read and compare. */
interface TypeSetting {
  /** "rate limit", "concurrency cap": what the lines of `apply` call it. */
  label: string;
  path: string;
  /** The API's list, as file items. */
  list: (client: AgentClient) => Promise<TypeItem[]>;
  /** The PUT body of an item. */
  body: (item: TypeItem) => Record<string, unknown>;
  /** Compared in the agent's units (a duration as ms). */
  comparable: (item: TypeItem) => Record<string, unknown>;
}

function durationText(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return String(ms);
}
const asMs = (per: number | string | undefined) => (typeof per === "string" ? (parseDuration(per) ?? per) : per);

export const RATE_LIMITS: TypeSetting = {
  label: "rate limit",
  path: "/api/queue/rate-limits",
  list: async (client) => {
    const schema = z.object({ rateLimits: z.array(z.object({ taskType: z.string(), max: z.number(), perMs: z.number(), reason: z.string() })) });
    return (await client.request("GET", "/api/queue/rate-limits", schema)).rateLimits.map((l) => ({ type: l.taskType, max: l.max, per: durationText(l.perMs), reason: l.reason }));
  },
  body: (item) => ({ max: item.max, per: item.per, reason: item.reason }),
  comparable: (item) => ({ max: item.max, per: asMs(item.per), reason: item.reason }),
};

export const CONCURRENCY: TypeSetting = {
  label: "concurrency cap",
  path: "/api/queue/concurrency",
  list: async (client) => {
    const schema = z.object({ concurrency: z.array(z.object({ taskType: z.string(), max: z.number(), reason: z.string() })) });
    return (await client.request("GET", "/api/queue/concurrency", schema)).concurrency.map((c) => ({ type: c.taskType, max: c.max, reason: c.reason }));
  },
  body: (item) => ({ max: item.max, reason: item.reason }),
  comparable: (item) => ({ max: item.max, reason: item.reason }),
};

/** The agent's settings of one kind as file items, by type. */
export async function currentTypeSettings(client: AgentClient, setting: TypeSetting): Promise<TypeItem[]> {
  return (await setting.list(client)).sort((a, b) => a.type.localeCompare(b.type));
}

/** Brings the agent's settings of one kind to match `wanted`; writes a line per type; returns how many were refused. */
export async function applyTypeSettings(client: AgentClient, setting: TypeSetting, wanted: readonly TypeItem[], options: { dryRun: boolean; prune: boolean; write: (line: string) => void }): Promise<number> {
  const existing = new Map((await setting.list(client)).map((item) => [item.type, item]));
  const path = (type: string) => `${setting.path}/${encodeURIComponent(type)}`;
  let refused = 0;
  for (const item of wanted) {
    const had = existing.get(item.type);
    const want = setting.comparable(item);
    const have = had ? setting.comparable(had) : {};
    const changed = had ? Object.keys(want).filter((field) => want[field] !== have[field]) : [];
    let outcome = had && changed.length === 0 ? "unchanged" : had ? `updated (${changed.join(", ")})` : "created";
    if (outcome !== "unchanged") {
      if (options.dryRun) outcome = `would be ${outcome}`;
      else {
        try {
          await client.request("PUT", path(item.type), z.unknown(), setting.body(item));
        } catch (error) {
          if (!(error instanceof ClientError) || error.exitCode !== EXIT.usage) throw error;
          refused++;
          outcome = `refused: ${error.message}`;
        }
      }
    }
    options.write(`${setting.label} ${item.type}: ${outcome}\n`);
  }
  if (!options.prune) return refused;
  const named = new Set(wanted.map((item) => item.type));
  for (const type of existing.keys()) {
    if (named.has(type)) continue;
    if (!options.dryRun) await client.request("DELETE", path(type), z.unknown());
    options.write(`${setting.label} ${type}: ${options.dryRun ? "would be removed" : "removed"}\n`);
  }
  return refused;
}
