/**
 * A CTE that writes one status entry of the event log per row of `source` (a CTE returning `id`),
 * so the entry commits in the statement that changes the status and is in order with every claim
 * by construction. `data` is a SQL expression over the row `c` giving the entry's JSON text.
 */
export function statusEntriesFrom(source: string, data: string): string {
  return `logged AS (
       INSERT INTO ph_task_events (task_id, kind, stream, data, bytes)
       SELECT c.id, 'status', NULL, x.data, octet_length(x.data)
       FROM ${source} c CROSS JOIN LATERAL (SELECT ${data} AS data) x
     )`;
}

/**
 * A run's "running" and end entries live on its row (run_seq, end_seq: migration 008). Before a
 * statement sends the row to another run (retry, release, recovery), this CTE writes them out as
 * event-log rows with their original sequence numbers. `locked` is a CTE of the rows as they are
 * before the change (SELECT * ... FOR UPDATE: the other CTEs of a statement never see its
 * updates); the statement's update must also clear run_seq, end_seq and run_ms (RUN_ENTRIES_CLEARED).
 */
/** The status entries row `alias` holds (a lateral call of ph_task_status_entries), as `e`. */
function entriesOnRow(alias: string): string {
  return `CROSS JOIN LATERAL ph_task_status_entries(${alias}.run_seq, ${alias}.end_seq, ${alias}.status, ${alias}.attempts,
         coalesce(${alias}.locked_by, ${alias}.last_worker), ${alias}.run_ms, ${alias}.error, ${alias}.started_at, ${alias}.finished_at) e`;
}

export function runEntriesWrittenOut(locked: string): string {
  return `written_out AS (
       INSERT INTO ph_task_events (seq, task_id, kind, stream, data, bytes, created_at)
       SELECT e.seq, o.id, 'status', NULL, e.data, octet_length(e.data), e.created_at
       FROM ${locked} o ${entriesOnRow("o")}
     )`;
}

export const RUN_ENTRIES_CLEARED = "run_seq = NULL, end_seq = NULL, run_ms = NULL";

/** A task's status entries that are still on its row, as event-log rows (for list-events.ts). */
export const ROW_STATUS_ENTRIES = `SELECT e.seq, t.id AS task_id, 'status'::text AS kind, NULL::text AS stream, e.data, e.created_at
       FROM ph_tasks t ${entriesOnRow("t")}`;
