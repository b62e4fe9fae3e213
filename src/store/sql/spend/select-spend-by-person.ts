import type { Queryable } from "../../db.js";
import { selectSpendGrouped } from "./select-spend-grouped.js";

export interface PersonSpendRow {
  /** Who asked, as proven (migration 045); null: no one named (API_TOKEN, loopback, schedules, hooks, unnamed writers) and runs recorded before 045. */
  asked_by: string | null;
  cost_usd: number;
  runs: number;
}

/** Spend in the last `windowMs` per person who asked, the costliest first: whose requests cost most. */
export async function selectSpendByPerson(db: Queryable, windowMs: number, limit: number): Promise<PersonSpendRow[]> {
  return selectSpendGrouped(db, "asked_by", "asked_by", windowMs, limit);
}
