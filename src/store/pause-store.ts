/**
 * The queue's pauses, beside the tasks: one interface over sql/pauses/. Every change is announced
 * on CHANNELS.pauses, so every worker sharing the database stops (or starts) claiming at once.
 */
import { CHANNELS, type Db } from "./db.js";
import { deletePauses } from "./sql/pauses/delete-pauses.js";
import { listPauses } from "./sql/pauses/list-pauses.js";
import type { PauseRow } from "./sql/pauses/pause-row.js";
import { upsertPauses } from "./sql/pauses/upsert-pauses.js";

export class PauseStore {
  constructor(readonly db: Db) {}

  list(): Promise<PauseRow[]> {
    return listPauses(this.db);
  }

  async pause(types: readonly string[], reason: string): Promise<void> {
    await upsertPauses(this.db, types, reason);
    await this.db.notify(CHANNELS.pauses, "");
  }

  /** Undefined: every pause. Returns the types resumed. */
  async resume(types?: readonly string[]): Promise<string[]> {
    const resumed = await deletePauses(this.db, types);
    await this.db.notify(CHANNELS.pauses, "");
    // Tasks of the resumed types are claimable again: wake the workers.
    if (resumed.length > 0) await this.db.notify(CHANNELS.wakeup, "");
    return resumed;
  }
}
