/**
 * Rate limits per task type (at most `max` claims of the type in any window of `per`, across every
 * worker) for the HTTP API and through it the CLI and the dashboard. A type is named from this
 * agent's task types: a typo would limit nothing and look like it worked.
 */
import { z } from "zod";
import { parseDuration } from "../config.js";
import type { RateLimitStore } from "../store/rate-limit-store.js";
import type { RateLimitRow } from "../store/sql/rate-limits/rate-limit-row.js";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { parseWith, ValidationError } from "../validation.js";
import { taskTypeChecker } from "./task-type-name.js";

export const RATE_MAX = 10_000;
export const RATE_PER_MIN_MS = 1000;
export const RATE_PER_MAX_MS = 86_400_000;

export function rateLimitToJson(row: RateLimitRow) {
  return {
    taskType: row.key,
    max: row.max_starts,
    perMs: row.per_ms,
    used: row.used,
    nextFreeAt: row.next_free_at?.toISOString() ?? null,
    reason: row.reason,
    setAt: row.set_at.toISOString(),
  };
}

/** A webhook's or hook's limit as the API shows it (null: none). */
export function limitWindowToJson(row: RateLimitRow | undefined) {
  return row ? { max: row.max_starts, perMs: row.per_ms, used: row.used, nextFreeAt: row.next_free_at?.toISOString() ?? null } : null;
}

const PerSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === "number" ? value : parseDuration(value);
  if (ms === undefined || !Number.isInteger(ms) || ms < RATE_PER_MIN_MS || ms > RATE_PER_MAX_MS) {
    ctx.addIssue({ code: "custom", message: `must be a window between 1s and 24h: milliseconds, or a duration like 30s, 1m, 1h`, input: value });
    return z.NEVER;
  }
  return ms;
});

/** `{ max, per }`: at most `max` starts in any window of `per` (ms, or a duration like 1m). */
export const RateInputSchema = z.strictObject({
  max: z.number({ error: `must be a whole number of starts from 1 to ${RATE_MAX}` }).int().min(1).max(RATE_MAX),
  per: PerSchema,
});

const LimitSchema = RateInputSchema.extend({ reason: z.string().trim().max(500).default("") });

export class RateLimitService {
  private readonly parseType: (type: string, what: string) => string;

  constructor(
    private readonly store: RateLimitStore,
    registry: ExecutorRegistry,
  ) {
    this.parseType = taskTypeChecker(registry);
  }

  list(): Promise<RateLimitRow[]> {
    return this.store.list();
  }

  /** `input`: { max, per, reason? }. Returns the type's limit as stored. */
  async set(type: string, input: unknown): Promise<RateLimitRow> {
    const taskType = this.parseType(type, "rate limit");
    const parsed = parseWith(LimitSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError("rate limit", parsed.errors);
    await this.store.set(taskType, parsed.value.max, parsed.value.per, parsed.value.reason);
    const [row] = await this.store.list([taskType]);
    if (!row) throw new Error(`the rate limit of '${taskType}' was not stored`);
    return row;
  }

  /** Lifts a type's limit; false when it had none. */
  async remove(type: string): Promise<boolean> {
    const taskType = this.parseType(type, "rate limit removal");
    return (await this.store.remove([taskType])).length > 0;
  }
}
