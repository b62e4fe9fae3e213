/**
 * Concurrency per task type across every worker: at most `max_running` tasks of a type run at once
 * in the whole cluster (`ph-tasks queue concurrency claude-code 2`), beside each worker's own
 * per-type slots (CLAUDE_MAX_CONCURRENT) and the per-document and per-drive limits.
 *
 * Exact like those limits: the claim function counts the type's running tasks after taking the
 * claim lock (migration 002), so two workers claiming at the same instant cannot both take the last
 * slot. The function is migration 010's with one step added after the rooms are computed: each
 * capped type among those claimed gets at most its cap less what runs now. A worker claiming no
 * capped type pays one lookup of this (small) table per claim.
 */
import { finishAndClaim as claimByRowAddress } from "./010-claim-by-row-address.js";

export const name = "type-concurrency";

/** `sql` with `text` inserted after `anchor`; a missing anchor is a bug in this file, not a no-op. */
function after(sql: string, anchor: string, text: string): string {
  if (!sql.includes(anchor)) throw new Error(`migration 021: the claim function has no '${anchor}'`);
  return sql.replace(anchor, `${anchor}${text}`);
}

const declarations = `
  v_cap_types text[];
  v_cap_max int[];
  v_cap_i int;
  v_cap_running int;`;

const capRooms = `
  -- Types capped across every worker: room at most the cap less what runs now anywhere.
  SELECT coalesce(array_agg(c.task_type), '{}'), coalesce(array_agg(c.max_running), '{}') INTO v_cap_types, v_cap_max
  FROM ph_type_concurrency c WHERE c.task_type = ANY(p_types);
  FOR v_cap_i IN 1 .. cardinality(v_cap_types) LOOP
    SELECT count(*)::int INTO v_cap_running FROM ph_tasks r WHERE r.status = 'running' AND r.type = v_cap_types[v_cap_i];
    v_type_at := array_position(v_types, v_cap_types[v_cap_i]);
    IF v_type_at IS NULL THEN
      v_types := v_types || v_cap_types[v_cap_i];
      v_type_room := v_type_room || (v_cap_max[v_cap_i] - v_cap_running);
      v_type_at := cardinality(v_types);
    ELSE
      v_type_room[v_type_at] := least(v_type_room[v_type_at], v_cap_max[v_cap_i] - v_cap_running);
    END IF;
    IF v_type_room[v_type_at] <= 0 THEN
      v_full_types := v_full_types || v_cap_types[v_cap_i];
    END IF;
  END LOOP;`;

const finishAndClaim = after(after(claimByRowAddress, "\n  v_type_at int;", declarations), "INTO v_types, v_type_room, v_full_types, v_busy_documents, v_busy_drives;", capRooms);

export const statements = [
  `CREATE TABLE ph_type_concurrency (
     task_type text PRIMARY KEY,
     max_running int NOT NULL CHECK (max_running >= 1),
     reason text NOT NULL DEFAULT '',
     set_at timestamptz NOT NULL DEFAULT now()
   )`,
  finishAndClaim,
];
