/** The attempts part of `ph-tasks show`: one line per attempt, as GET /api/tasks/:id/attempts gives them. */
import { z } from "zod";
import { table } from "./format.js";

export const AttemptsBody = z.object({
  attempts: z.array(z.object({
    attempt: z.number(),
    workerId: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    outcome: z.string(),
    error: z.object({ kind: z.string(), code: z.string(), message: z.string() }).optional(),
    retryAt: z.string().optional(),
    reason: z.string().optional(),
  })),
});

const seconds = (ms: number | null) => (ms === null ? "–" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);

/** "history: not started yet", or a table of the attempts. */
export function attemptLines(attempts: z.infer<typeof AttemptsBody>["attempts"]): string {
  if (attempts.length === 0) return "history:   not started yet";
  const rows = attempts.map((a) => {
    const why = a.error ? `${a.error.code}: ${a.error.message}` : (a.reason ?? "");
    const next = a.retryAt ? ` (next at ${a.retryAt})` : "";
    return [`#${a.attempt}`, a.outcome, a.workerId ?? "–", a.startedAt, seconds(a.durationMs), `${why}${next}`.replace(/\s+/g, " ").slice(0, 160)];
  });
  return `history:\n${table(["", "OUTCOME", "WORKER", "STARTED", "TOOK", "WHY"], rows)}`;
}
