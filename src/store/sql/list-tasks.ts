import { PLANNED_EACH_TIME, type Queryable } from "../db.js";
import type { ListFilter, TaskRow } from "../interfaces.js";
import { TASK_STATUSES, type TaskStatus } from "../../tasks/types.js";

/**
 * Matches counted for `total` at most: counting every match read the whole retained history on
 * every dashboard refresh (in the agent's own thread on PGlite). Past it, `totalCapped` is true.
 * NOT MATERIALIZED: the count and the page each read only what they need (newest first by index).
 */
export const LIST_TOTAL_CAP = 10_000;

/** Text matched literally by ILIKE: its own %, _ and backslash escaped. */
const likeEscaped = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The statuses asked for are written into the statement (known names, checked here): a parameter
 * would hide from the planner that `failed` is the predicate of a partial index (migration 026),
 * and a prepared statement's generic plan could not use it.
 */
function statusCondition(statuses: readonly TaskStatus[]): string {
  for (const status of statuses) if (!TASK_STATUSES.includes(status)) throw new Error(`unknown task status '${String(status)}': one of ${TASK_STATUSES.join(", ")}`);
  return statuses.length === 0 ? "false" : `status IN (${statuses.map((s) => `'${s}'`).join(", ")})`;
}

/**
 * Newest first (task ids are time-ordered UUID v7, read backwards from the primary key), filtered;
 * `total` counts the matches up to LIST_TOTAL_CAP (for pagination).
 *
 * Only the filters given become conditions, so that each combination is its own statement with a
 * plan of its own (an `$n IS NULL OR ...` condition for every filter made one plan serve all).
 * With a tag, the tag's rows (migration 025) lead: their primary key holds a tag's task ids in
 * order, so its newest tasks come first without reading any task that lacks the tag.
 */
export async function listTasks(db: Queryable, filter: ListFilter): Promise<{ rows: TaskRow[]; total: number; totalCapped: boolean }> {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const conditions: string[] = [];
  if (filter.status !== undefined) conditions.push(statusCondition(filter.status));
  if (filter.type !== undefined) conditions.push(`type = ${param(filter.type)}`);
  if (filter.documentId !== undefined) conditions.push(`document_id = ${param(filter.documentId)}`);
  if (filter.driveId !== undefined) conditions.push(`drive_id = ${param(filter.driveId)}`);
  // As written, for the partial index of migration 046.
  if (filter.askedBy !== undefined) conditions.push(`source->>'by' = ${param(filter.askedBy)}::text`);
  if (filter.createdAfter !== undefined) conditions.push(`created_at >= ${param(filter.createdAfter)}::timestamptz`);
  if (filter.createdBefore !== undefined) conditions.push(`created_at < ${param(filter.createdBefore)}::timestamptz`);
  if (filter.titleContains !== undefined) {
    // Through the titles' own rows (migration 028), for the planner to choose: their trigram index
    // when few match, or the tasks newest first when many do (the page and the capped count come soon).
    conditions.push(`ph_tasks.id IN (SELECT task_id FROM ph_task_titles WHERE title ILIKE '%' || ${param(likeEscaped(filter.titleContains))}::text || '%' ESCAPE '\\')`);
  }
  const source = filter.tag === undefined ? "ph_tasks" : `ph_task_tags g JOIN ph_tasks ON ph_tasks.id = g.task_id AND g.tag = ${param(filter.tag)}::text`;
  const { rows } = await db.query<TaskRow & { matches: number; page_row: boolean }>(
    `${filter.titleContains === undefined ? "" : PLANNED_EACH_TIME}WITH matching AS NOT MATERIALIZED (
       SELECT ph_tasks.* FROM ${source}
       ${conditions.length > 0 ? `WHERE ${conditions.join("\n         AND ")}` : ""}
     ), counted AS (
       SELECT count(*)::int AS matches FROM (SELECT 1 FROM matching LIMIT ${param(LIST_TOTAL_CAP)}::int + 1) capped
     ), page AS (
       SELECT * FROM matching ORDER BY id DESC LIMIT ${param(filter.limit)}::int OFFSET ${param(filter.offset)}::int
     )
     SELECT page.*, counted.matches, page.id IS NOT NULL AS page_row
     FROM counted LEFT JOIN page ON true
     ORDER BY page.id DESC`,
    params,
  );
  const matches = rows[0]?.matches ?? 0;
  return {
    rows: rows.filter((row) => row.page_row).map(({ matches: _matches, page_row: _pageRow, ...row }) => row),
    total: Math.min(matches, LIST_TOTAL_CAP),
    totalCapped: matches > LIST_TOTAL_CAP,
  };
}
