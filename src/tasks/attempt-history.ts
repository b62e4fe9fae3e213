/**
 * A task's attempts, read back from the status entries of its event log: who ran each one, when,
 * for how long, and how it ended — completed, failed, cancelled, retrying (with the error and when
 * the next one was due), returned to the queue without counting (a shutdown, a claim that waited
 * too long), or lost with its worker. What `ph-tasks show` and the dashboard's task page list, so a
 * flaky task's history reads at a glance instead of from its log.
 */
import { z } from "zod";
import type { TaskEventRow } from "../store/interfaces.js";

export type AttemptOutcome = "running" | "completed" | "failed" | "cancelled" | "retrying" | "returned" | "lost";

export interface AttemptRecord {
  /** 1 for the first run; a run returned without counting keeps the number of the one after it. */
  attempt: number;
  workerId: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  outcome: AttemptOutcome;
  error?: { kind: string; code: string; message: string };
  /** Retrying: when the next attempt was due. */
  retryAt?: string;
  /** Returned: why. */
  reason?: string;
}

// The entries' JSON as the store writes them (status-entries.ts, the claim function); anything
// else in the log (an older shape, a hand-written row) is passed over, not fatal.
const EntrySchema = z.looseObject({
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]),
  attempt: z.number().int().optional(),
  workerId: z.string().nullable().optional(),
  durationMs: z.number().nullable().optional(),
  error: z.looseObject({ kind: z.string(), code: z.string(), message: z.string() }).nullable().optional(),
  retryInMs: z.number().optional(),
  reason: z.string().optional(),
  recovered: z.boolean().optional(),
});
type Entry = z.infer<typeof EntrySchema>;

function parseEntry(data: string): Entry | undefined {
  try {
    const parsed = EntrySchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** How the open attempt ended, from the entry that ended it. */
function ending(entry: Entry, at: Date): Pick<AttemptRecord, "outcome" | "retryAt" | "reason"> {
  if (entry.recovered) return { outcome: "lost" };
  if (entry.status === "pending") {
    if (entry.retryInMs !== undefined) return { outcome: "retrying", retryAt: new Date(at.getTime() + entry.retryInMs).toISOString() };
    return { outcome: "returned", ...(entry.reason ? { reason: entry.reason } : {}) };
  }
  return { outcome: entry.status === "running" ? "lost" : entry.status };
}

/** The attempts in the order they ran, from a task's status entries (oldest first). */
export function attemptHistory(entries: readonly Pick<TaskEventRow, "kind" | "data" | "created_at">[]): AttemptRecord[] {
  const attempts: AttemptRecord[] = [];
  let open: AttemptRecord | undefined;
  for (const row of entries) {
    if (row.kind !== "status") continue;
    const entry = parseEntry(row.data);
    if (!entry) continue;
    const at = row.created_at;
    if (entry.status === "running") {
      // A start with one still open: the first one's end was never recorded (its worker was lost).
      if (open) attempts.push({ ...open, outcome: "lost" });
      open = { attempt: entry.attempt ?? attempts.length + 1, workerId: entry.workerId ?? null, startedAt: at.toISOString(), endedAt: null, durationMs: null, outcome: "running" };
      continue;
    }
    if (!open) continue; // created, retried by hand, cancelled while waiting: not an attempt
    const started = Date.parse(open.startedAt);
    const error = entry.error ? { kind: entry.error.kind, code: entry.error.code, message: entry.error.message } : undefined;
    attempts.push({
      ...open,
      endedAt: at.toISOString(),
      durationMs: entry.durationMs ?? Math.max(0, at.getTime() - started),
      ...ending(entry, at),
      ...(error ? { error } : {}),
    });
    open = undefined;
  }
  if (open) attempts.push(open);
  return attempts;
}
