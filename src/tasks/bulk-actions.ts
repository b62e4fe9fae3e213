/**
 * Retry or cancel many tasks at once, chosen by a filter (status, type, drive, document, tag, title): after an
 * outage ("retry every failed claude-code task"), or to clear a queue ("cancel what waits for this
 * drive"). Each task goes through the same path as a single retry or cancel — its events, its
 * document, a running one stopped wherever it runs. At most `limit` per call, the newest first;
 * `more` says the filter matched others (call again). `dryRun` only lists them.
 */
import { z } from "zod";
import { parseWith, ValidationError } from "../validation.js";
import { toListFilter } from "./list-filter.js";
import type { TaskManager } from "./task-manager.js";
import type { TaskStatus } from "./types.js";

const filterSchema = <S extends TaskStatus>(statuses: readonly [S, ...S[]], defaults: S[]) =>
  z.strictObject({
    status: z
      .array(z.enum(statuses, { error: `must be one of ${statuses.join(", ")}` }))
      .min(1)
      .default(defaults),
    type: z.string().min(1).max(40).optional(),
    driveId: z.string().min(1).max(200).optional(),
    documentId: z.string().min(1).max(200).optional(),
    tag: z.string().min(1).max(64).optional(),
    /** Asked for by this person (source.by). */
    by: z.string().min(1).max(200).optional(),
    /** Title contains, ignoring case (as the list's q). */
    q: z.string().min(1).max(200).optional(),
    limit: z.int().min(1).max(1000).default(100),
    dryRun: z.boolean().default(false),
  });

const RetryFilterSchema = filterSchema(["failed", "cancelled"], ["failed"]);
const CancelFilterSchema = filterSchema(["pending", "running"], ["pending"]);

export interface BulkOutcome {
  /** The ids acted on (with dryRun: that would be). */
  ids: string[];
  /** Matched, but changed meanwhile (finished, retried or cancelled by someone else). */
  skipped: string[];
  /** The filter matched more than `limit`. */
  more: boolean;
  dryRun: boolean;
}

async function bulk(manager: TaskManager, filter: z.infer<typeof RetryFilterSchema> | z.infer<typeof CancelFilterSchema>, act: (id: string) => Promise<boolean>): Promise<BulkOutcome> {
  const { limit, dryRun } = filter;
  const { tasks, total } = await manager.listTasks(toListFilter(filter, { limit, offset: 0 }));
  const outcome: BulkOutcome = { ids: [], skipped: [], more: total > tasks.length, dryRun };
  for (const task of tasks) {
    if (dryRun || (await act(task.id))) outcome.ids.push(task.id);
    else outcome.skipped.push(task.id);
  }
  return outcome;
}

/** Retries the failed (or cancelled) tasks the filter matches. */
export async function retryMatching(manager: TaskManager, input: unknown): Promise<BulkOutcome> {
  const parsed = parseWith(RetryFilterSchema, input ?? {});
  if (!parsed.ok) throw new ValidationError("retry filter", parsed.errors);
  return bulk(manager, parsed.value, async (id) => (await manager.retryTask(id)) !== undefined);
}

/** Cancels the pending (or running) tasks the filter matches. */
export async function cancelMatching(manager: TaskManager, input: unknown, reason = "cancelled in bulk through the API"): Promise<BulkOutcome> {
  const parsed = parseWith(CancelFilterSchema, input ?? {});
  if (!parsed.ok) throw new ValidationError("cancel filter", parsed.errors);
  return bulk(manager, parsed.value, (id) => manager.cancelTask(id, reason));
}
