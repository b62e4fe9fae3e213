/**
 * Concurrency caps per task type across every worker (migration 021): one interface over
 * sql/type-concurrency/. The claim function reads the table itself at every claim, so a change
 * needs no announcement to apply — only a wake-up, since a raised cap may let waiting work start.
 */
import { CHANNELS, type Db } from "./db.js";
import { deleteTypeConcurrency } from "./sql/type-concurrency/delete-type-concurrency.js";
import { listTypeConcurrency } from "./sql/type-concurrency/list-type-concurrency.js";
import type { TypeConcurrencyRow } from "./sql/type-concurrency/type-concurrency-row.js";
import { upsertTypeConcurrency } from "./sql/type-concurrency/upsert-type-concurrency.js";

export class TypeConcurrencyStore {
  constructor(readonly db: Db) {}

  list(types?: readonly string[]): Promise<TypeConcurrencyRow[]> {
    return listTypeConcurrency(this.db, types);
  }

  async set(type: string, maxRunning: number, reason: string): Promise<void> {
    await upsertTypeConcurrency(this.db, type, maxRunning, reason);
    await this.db.notify(CHANNELS.wakeup, "");
  }

  /** Returns the types lifted. */
  async remove(types: readonly string[]): Promise<string[]> {
    const removed = await deleteTypeConcurrency(this.db, types);
    if (removed.length > 0) await this.db.notify(CHANNELS.wakeup, "");
    return removed;
  }
}
