/**
 * What /api/stats shows of the tasks that ended recently, folded from the rolled-up rows
 * (sql/select-finished-minutes.ts, sql/select-run-times.ts): the ends per minute and outcome (the
 * dashboard's chart), and per type how many completed, failed and were cancelled, with the run
 * times of the completed ones.
 */
import type { FinishedMinuteRow } from "./sql/select-finished-minutes.js";
import type { RunTimeRow } from "./sql/select-run-times.js";
import { percentileMs } from "./run-time-buckets.js";

/** How the tasks of one type ended over a recent stretch, and how long their completed runs took. */
export interface TypeStatsRow {
  type: string;
  completed: number;
  failed: number;
  cancelled: number;
  /** Of the last run of each completed task (null: none completed); see run-time-buckets.ts. */
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface EndedSummary {
  perMinute: { minute: Date; status: string; count: number }[];
  types: TypeStatsRow[];
}

export function summarizeEnds(rows: readonly FinishedMinuteRow[], runTimes: readonly RunTimeRow[]): EndedSummary {
  const perMinute = new Map<string, { minute: Date; status: string; count: number }>();
  const types = new Map<string, { row: TypeStatsRow; runs: Map<number, number> }>();
  for (const r of rows) {
    const key = `${r.minute.toISOString()} ${r.status}`;
    const minute = perMinute.get(key) ?? { minute: r.minute, status: r.status, count: 0 };
    minute.count += r.count;
    perMinute.set(key, minute);

    let type = types.get(r.type);
    if (!type) types.set(r.type, (type = { row: { type: r.type, completed: 0, failed: 0, cancelled: 0, p50_ms: null, p95_ms: null }, runs: new Map() }));
    if (r.status === "completed" || r.status === "failed" || r.status === "cancelled") type.row[r.status] += r.count;
  }
  // (the run times' blocks reach a little further back: a type none of whose tasks ended within the window is left out)
  for (const r of runTimes) {
    const runs = types.get(r.type)?.runs;
    runs?.set(r.run_bucket, (runs.get(r.run_bucket) ?? 0) + r.count);
  }
  return {
    perMinute: [...perMinute.values()].sort((a, b) => a.minute.getTime() - b.minute.getTime() || a.status.localeCompare(b.status)),
    types: [...types.values()]
      .map(({ row, runs }) => ({ ...row, p50_ms: percentileMs(runs, 0.5), p95_ms: percentileMs(runs, 0.95) }))
      .sort((a, b) => a.type.localeCompare(b.type)),
  };
}
