/**
 * SQL shared by the write-backs of trigger rules' results (migration 034): an end's mark names
 * one end of a task — its status and the microsecond it ended — so that the end after a retry
 * (the same status included) is another end, written again, while two writers of one end agree
 * on its mark and so on the operation's action id (result-write-back.ts).
 */
export const END_MARK = (task: string): string =>
  `${task}.status || '@' || coalesce((extract(epoch FROM ${task}.finished_at) * 1000000)::bigint::text, '')`;

/** Not held by a writer now: never taken, or its writer's lease ran out. */
export const NOT_HELD = (row: string): string => `(${row}.writing_until IS NULL OR ${row}.writing_until < now())`;

/** The SET list of a retry: the next end is written again, whoever held this one. */
export const WRITE_BACK_CLEARED = "written_status = NULL, writing_end = NULL, writing_until = NULL";

/** A sweep's look: the ids found (at most its limit) and the database's clock when it looked. */
export interface UnwrittenEnds {
  at: Date;
  ids: string[];
}
