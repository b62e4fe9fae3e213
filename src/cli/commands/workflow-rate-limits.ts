/**
 * The workflow file's `rateLimits`: `[{ "type": "claude-code", "max": 50, "per": "1m", "reason": "" }]`.
 * Kept apart from the named kinds (templates, schedules, hooks, webhooks): a rate limit is keyed by
 * its task type and lives under /api/queue/rate-limits. `per` is milliseconds or a duration (30s, 1m,
 * 1h); export writes it with the largest unit that divides it.
 */
import { z } from "zod";
import { parseDuration } from "../../config.js";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";

export const RateLimitItemSchema = z.strictObject({ type: z.string().min(1), max: z.number(), per: z.union([z.number(), z.string()]), reason: z.string().default("") });
type RateLimitItem = z.infer<typeof RateLimitItemSchema>;

const ListSchema = z.object({ rateLimits: z.array(z.object({ taskType: z.string(), max: z.number(), perMs: z.number(), reason: z.string() })) });

function durationText(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return String(ms);
}

async function listRateLimits(client: AgentClient) {
  return (await client.request("GET", "/api/queue/rate-limits", ListSchema)).rateLimits;
}

/** The agent's rate limits as file items, by type. */
export async function currentRateLimits(client: AgentClient): Promise<RateLimitItem[]> {
  return (await listRateLimits(client)).map((l) => ({ type: l.taskType, max: l.max, per: durationText(l.perMs), reason: l.reason })).sort((a, b) => a.type.localeCompare(b.type));
}

/** Brings the agent's rate limits to match `wanted`; writes a line per limit; returns how many were refused. */
export async function applyRateLimits(client: AgentClient, wanted: readonly RateLimitItem[], options: { dryRun: boolean; prune: boolean; write: (line: string) => void }): Promise<number> {
  const existing = new Map((await listRateLimits(client)).map((l) => [l.taskType, l]));
  let refused = 0;
  for (const item of wanted) {
    const had = existing.get(item.type);
    const perMs = typeof item.per === "number" ? item.per : (parseDuration(item.per) ?? item.per);
    const differs = had ? { max: item.max !== had.max, per: perMs !== had.perMs, reason: item.reason !== had.reason } : {};
    const changed = Object.keys(differs).filter((f) => differs[f as keyof typeof differs]);
    let outcome = had && changed.length === 0 ? "unchanged" : had ? `updated (${changed.join(", ")})` : "created";
    if (outcome !== "unchanged") {
      if (options.dryRun) outcome = `would be ${outcome}`;
      else {
        try {
          await client.request("PUT", `/api/queue/rate-limits/${encodeURIComponent(item.type)}`, z.unknown(), { max: item.max, per: item.per, reason: item.reason });
        } catch (error) {
          if (!(error instanceof ClientError) || error.exitCode !== EXIT.usage) throw error;
          refused++;
          outcome = `refused: ${error.message}`;
        }
      }
    }
    options.write(`rate limit ${item.type}: ${outcome}\n`);
  }
  if (!options.prune) return refused;
  const named = new Set(wanted.map((item) => item.type));
  for (const type of existing.keys()) {
    if (named.has(type)) continue;
    if (!options.dryRun) await client.request("DELETE", `/api/queue/rate-limits/${encodeURIComponent(type)}`, z.unknown());
    options.write(`rate limit ${type}: ${options.dryRun ? "would be removed" : "removed"}\n`);
  }
  return refused;
}
