import type { Queryable } from "../../db.js";
import { selectSpendGrouped } from "./select-spend-grouped.js";

export interface DriveSpendRow {
  /** The drive whose writers asked (migration 040); null: the owner's own tasks (the API, the CLI, schedules, hooks) and runs recorded before 040. */
  drive_id: string | null;
  cost_usd: number;
  runs: number;
}

/** Spend in the last `windowMs` per drive whose writers asked, the costliest first: whose documents ask for the dear work. */
export async function selectSpendByDrive(db: Queryable, windowMs: number, limit: number): Promise<DriveSpendRow[]> {
  return selectSpendGrouped(db, "writers_drive", "drive_id", windowMs, limit);
}
