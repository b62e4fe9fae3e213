/**
 * The per-type table of /api/stats (the dashboard's "Task types" card, `ph-tasks stats`): what
 * waits and runs now, and how the last hour's tasks ended — every type the agent has, and any other
 * waiting, running or ended within the hour (another worker's, or one no longer configured), by name.
 */
import type { TypeStatsRow } from "../store/ended-summary.js";

export function typeStatsToJson(known: readonly string[], active: readonly { status: string; type: string; count: number }[], lastHour: readonly TypeStatsRow[]) {
  const names = [...new Set([...known, ...active.map((r) => r.type), ...lastHour.map((r) => r.type)])].sort();
  const count = (type: string, status: string) => active.find((r) => r.type === type && r.status === status)?.count ?? 0;
  return names.map((type) => {
    const hour = lastHour.find((r) => r.type === type);
    const ended = (hour?.completed ?? 0) + (hour?.failed ?? 0);
    return {
      type,
      pending: count(type, "pending"),
      running: count(type, "running"),
      lastHour: {
        completed: hour?.completed ?? 0,
        failed: hour?.failed ?? 0,
        cancelled: hour?.cancelled ?? 0,
        /** Failed of those that completed or failed (cancelled ones left out); null when none. */
        failureRate: ended > 0 ? (hour?.failed ?? 0) / ended : null,
        p50Ms: hour?.p50_ms ?? null,
        p95Ms: hour?.p95_ms ?? null,
      },
    };
  });
}
