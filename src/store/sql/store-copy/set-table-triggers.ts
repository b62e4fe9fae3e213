import type { Queryable } from "../../db.js";
import { quoteIdentifier } from "./quote-identifier.js";

/**
 * Turns `table`'s own triggers off or on again. Copied rows are history, not events: with the
 * triggers on, every copied task would queue its webhooks' deliveries, its pipeline's checks and
 * its dependents' release a second time. Taken in the copy's transaction, it holds the table
 * (ACCESS EXCLUSIVE) until the end: nothing else writes it meanwhile, nothing sees the triggers off.
 */
export async function setTableTriggers(db: Queryable, table: string, on: boolean): Promise<void> {
  await db.query(`ALTER TABLE ${quoteIdentifier(table)} ${on ? "ENABLE" : "DISABLE"} TRIGGER USER`);
}
