/**
 * The finished_at index comes back (migration 007 dropped it to make finishes cheaper).
 *
 * Why: without it every dashboard refresh (/api/stats, every 2 s while one is open) read the whole
 * retained history — 660 ms per refresh with 1,000,000 finished tasks kept on PostgreSQL, 100 ms
 * with 100,000 on PGlite, where the worker's claims wait meanwhile. With it those reads take the
 * last hour's tasks only, and the retention cleanup walks only what it deletes. The price is one
 * index entry per finished task (a no-op task now writes four: the claim's primary key and lease
 * entries, the finish's primary key and finished_at ones); measured in the README's benchmarks.
 */
export const name = "finished-index";

export const statements = ["CREATE INDEX IF NOT EXISTS ph_tasks_finished ON ph_tasks (finished_at) WHERE finished_at IS NOT NULL"];
