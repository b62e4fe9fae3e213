/**
 * Concurrency caps per task type across every worker (at most `max` tasks of the type running at
 * once in the whole cluster) for the HTTP API and through it the CLI and the dashboard.
 */
import { z } from "zod";
import type { TypeConcurrencyStore } from "../store/type-concurrency-store.js";
import type { TypeConcurrencyRow } from "../store/sql/type-concurrency/type-concurrency-row.js";
import type { ExecutorRegistry } from "../tasks/executors/registry.js";
import { parseWith, ValidationError } from "../validation.js";
import { taskTypeChecker } from "./task-type-name.js";

export const CONCURRENCY_MAX = 10_000;

export function concurrencyToJson(row: TypeConcurrencyRow) {
  return { taskType: row.task_type, max: row.max_running, running: row.running, reason: row.reason, setAt: row.set_at.toISOString() };
}

const CapSchema = z.strictObject({
  max: z.number({ error: `must be a whole number of tasks from 1 to ${CONCURRENCY_MAX}` }).int().min(1).max(CONCURRENCY_MAX),
  reason: z.string().trim().max(500).default(""),
});

export class ConcurrencyService {
  private readonly parseType: (type: string, what: string) => string;

  constructor(
    private readonly store: TypeConcurrencyStore,
    registry: ExecutorRegistry,
  ) {
    this.parseType = taskTypeChecker(registry);
  }

  list(): Promise<TypeConcurrencyRow[]> {
    return this.store.list();
  }

  /** `input`: { max, reason? }. Returns the type's cap as stored. */
  async set(type: string, input: unknown): Promise<TypeConcurrencyRow> {
    const taskType = this.parseType(type, "concurrency");
    const parsed = parseWith(CapSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError("concurrency", parsed.errors);
    await this.store.set(taskType, parsed.value.max, parsed.value.reason);
    const [row] = await this.store.list([taskType]);
    if (!row) throw new Error(`the concurrency cap of '${taskType}' was not stored`);
    return row;
  }

  /** Lifts a type's cap; false when it had none. */
  async remove(type: string): Promise<boolean> {
    return (await this.store.remove([this.parseType(type, "concurrency removal")])).length > 0;
  }
}
