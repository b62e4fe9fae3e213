/**
 * Pausing and resuming the queue (by task type, or every type) for the HTTP API and through it the
 * CLI and the dashboard. A type is named from this agent's task types — a typo pauses nothing and
 * would look like it worked, so it is refused instead.
 */
import { z } from "zod";
import type { PauseStore } from "../store/pause-store.js";
import { ALL_TYPES, type PauseRow } from "../store/sql/pauses/pause-row.js";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { parseWith, ValidationError } from "../validation.js";

export function pauseToJson(row: PauseRow) {
  return { taskType: row.task_type, reason: row.reason, pausedAt: row.paused_at.toISOString() };
}

export class PauseService {
  private readonly pauseSchema;
  private readonly resumeSchema;

  constructor(
    private readonly store: PauseStore,
    registry: ExecutorRegistry,
  ) {
    const known = [ALL_TYPES, ...registry.types()] as [string, ...string[]];
    const types = z
      .array(z.enum(known, { error: `must be * (every type) or one of ${known.slice(1).join(", ")}` }))
      .min(1, "name at least one type, or leave types out")
      .max(50)
      .transform((list) => [...new Set(list)]);
    this.pauseSchema = z.strictObject({ types: types.default([ALL_TYPES]), reason: z.string().trim().max(500).default("") });
    this.resumeSchema = z.strictObject({ types: types.optional() });
  }

  list(): Promise<PauseRow[]> {
    return this.store.list();
  }

  /** `input`: { types?: (default every type), reason? }. Returns the pauses now. */
  async pause(input: unknown): Promise<PauseRow[]> {
    const parsed = parseWith(this.pauseSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError("pause", parsed.errors);
    await this.store.pause(parsed.value.types, parsed.value.reason);
    return this.store.list();
  }

  /** `input`: { types? } (default: every pause). Returns the types resumed and the pauses left. */
  async resume(input: unknown): Promise<{ resumed: string[]; pauses: PauseRow[] }> {
    const parsed = parseWith(this.resumeSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError("resume", parsed.errors);
    const resumed = await this.store.resume(parsed.value.types);
    return { resumed, pauses: await this.store.list() };
  }
}
