/**
 * Which workers share this task store, and how each is doing: every worker writes its row at each
 * heartbeat (once a second by default) and removes it when it stops. A row whose worker stopped
 * writing for longer than its lease is a lost worker (killed, frozen, cut off — its tasks go back
 * to the queue on the same clock); lost rows are kept for an hour so that an operator sees what
 * was lost and when, then forgotten. Nothing on the claim path reads or writes this table.
 *
 * A drain asked for a worker (`ph-tasks workers drain`) is a column of its row: the worker reads it
 * back with its heartbeat's write, stops claiming, lets its runs finish and returns what it had
 * claimed ahead. A new process under the same id (its start time differs) starts undrained.
 */
export const name = "workers";

export const statements = [
  `CREATE TABLE ph_workers (
     worker_id      text PRIMARY KEY,
     host           text NOT NULL,
     pid            int NOT NULL,
     version        text NOT NULL,
     state          text NOT NULL CHECK (state IN ('running', 'stopping')),
     max_concurrent int NOT NULL,
     prefetch       int NOT NULL,
     lease_ms       int NOT NULL,
     types          text[] NOT NULL,
     started_at     timestamptz NOT NULL,
     last_seen_at   timestamptz NOT NULL DEFAULT now(),
     -- ph-tasks workers drain: the worker claims nothing more until resumed or restarted.
     drain_requested_at timestamptz,
     drain_reason   text NOT NULL DEFAULT ''
   )`,
];
