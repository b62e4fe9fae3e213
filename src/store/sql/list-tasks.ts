import type { Queryable } from "../db.js";
import type { ListFilter, TaskRow } from "../interfaces.js";

/**
 * Matches counted for `total` at most: counting every match read the whole retained history on
 * every dashboard refresh (in the agent's own thread on PGlite). Past it, `totalCapped` is true.
 * NOT MATERIALIZED: the count and the page each read only what they need (newest first by index).
 */
export const LIST_TOTAL_CAP = 10_000;

/**
 * Newest first (task ids are time-ordered UUID v7, read backwards from the primary key), filtered; `total` counts the matches up to LIST_TOTAL_CAP (for pagination).
 */
/** Text matched literally by ILIKE: its own %, _ and backslash escaped. */
const likeEscaped = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * With a tag, the tag's rows (migration 025) lead: their primary key holds a tag's task ids in
 * order, so its newest tasks come first without reading any task that lacks the tag.
 */
const TAGGED_TASKS = "ph_task_tags g JOIN ph_tasks ON ph_tasks.id = g.task_id AND g.tag = $11::text";

export async function listTasks(db: Queryable, filter: ListFilter): Promise<{ rows: TaskRow[]; total: number; totalCapped: boolean }> {
  const { rows } = await db.query<TaskRow & { matches: number; page_row: boolean }>(
    `WITH matching AS NOT MATERIALIZED (
       SELECT ph_tasks.* FROM ${filter.tag === undefined ? "ph_tasks" : TAGGED_TASKS}
       WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
         AND ($2::text IS NULL OR type = $2)
         AND ($3::text IS NULL OR document_id = $3)
         AND ($4::text IS NULL OR drive_id = $4)
         AND ($8::timestamptz IS NULL OR created_at >= $8)
         AND ($9::timestamptz IS NULL OR created_at < $9)
         AND ($10::text IS NULL OR title ILIKE '%' || $10 || '%' ESCAPE '\\')
         AND ${filter.tag === undefined ? "$11::text IS NULL" : "true"}
     ), counted AS (
       SELECT count(*)::int AS matches FROM (SELECT 1 FROM matching LIMIT $7 + 1) capped
     ), page AS (
       SELECT * FROM matching ORDER BY id DESC LIMIT $5 OFFSET $6
     )
     SELECT page.*, counted.matches, page.id IS NOT NULL AS page_row
     FROM counted LEFT JOIN page ON true
     ORDER BY page.id DESC`,
    [filter.status ?? null, filter.type ?? null, filter.documentId ?? null, filter.driveId ?? null, filter.limit, filter.offset, LIST_TOTAL_CAP,
      filter.createdAfter ?? null, filter.createdBefore ?? null, filter.titleContains === undefined ? null : likeEscaped(filter.titleContains), filter.tag ?? null],
  );
  const matches = rows[0]?.matches ?? 0;
  return {
    rows: rows.filter((row) => row.page_row).map(({ matches: _matches, page_row: _pageRow, ...row }) => row),
    total: Math.min(matches, LIST_TOTAL_CAP),
    totalCapped: matches > LIST_TOTAL_CAP,
  };
}
