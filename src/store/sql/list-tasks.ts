import type { Queryable } from "../db.js";
import type { ListFilter, TaskRow } from "../interfaces.js";

/** Newest first, filtered; `total` counts every match (for pagination). */
export async function listTasks(db: Queryable, filter: ListFilter): Promise<{ rows: TaskRow[]; total: number }> {
  const { rows } = await db.query<TaskRow & { total: string | number }>(
    `SELECT *, count(*) OVER () AS total FROM ph_tasks
     WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
       AND ($2::text IS NULL OR type = $2)
       AND ($3::text IS NULL OR document_id = $3)
       AND ($4::text IS NULL OR drive_id = $4)
     ORDER BY created_at DESC, id DESC
     LIMIT $5 OFFSET $6`,
    [filter.status ?? null, filter.type ?? null, filter.documentId ?? null, filter.driveId ?? null, filter.limit, filter.offset],
  );
  const total = rows.length > 0 ? Number(rows[0]?.total) : 0;
  return { rows: rows.map(({ total: _total, ...row }) => row), total };
}
