/** Which worker ran a finished task (locked_by is cleared when it finishes). */
export const name = "last-worker";

export const sql = `ALTER TABLE ph_tasks ADD COLUMN IF NOT EXISTS last_worker text`;
