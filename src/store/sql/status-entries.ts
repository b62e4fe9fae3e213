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
