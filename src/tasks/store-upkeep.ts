/**
 * Upkeep of the task store on behalf of one worker: VACUUM after every `vacuumEveryFinishes`
 * finished runs (dead row versions from claims and finishes slow every claim until vacuumed, and
 * PGlite has no autovacuum), the periodic cleanup that removes finished tasks past their
 * retention (and run costs past theirs) and refreshes the planner's statistics, and the rollup of ended tasks for the stats.
 */
import type { Logger } from "../logger.js";
import type { TaskStore } from "../store/task-store.js";
import type { ManagerSettings } from "./manager-settings.js";
import { SpendStore } from "../store/spend-store.js";
import { RUN_COST_RETENTION_MS } from "./spend-budget.js";

export class StoreUpkeep {
  private finishedSinceVacuum = 0;
  private vacuuming: Promise<void> | undefined;
  private cleaning: Promise<void> | undefined;
  private rolling: Promise<void> | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly settings: Pick<ManagerSettings, "vacuumEveryFinishes" | "resultTtlMs" | "failedResultTtlMs">,
    private readonly logger: Logger,
    /** Whether the worker still runs (no follow-up vacuum after it stopped). */
    private readonly active: () => boolean,
  ) {}

  /** A run's end was recorded. */
  finished(): void {
    const every = this.settings.vacuumEveryFinishes;
    if (every > 0 && ++this.finishedSinceVacuum >= every) void this.vacuum();
  }

  cleanup(): Promise<void> {
    this.cleaning ??= this.removeExpired().finally(() => (this.cleaning = undefined));
    return this.cleaning;
  }

  /** Rolls up the tasks ended since the last rollup (any worker's, or a stats read's), if due. */
  rollUp(): Promise<void> {
    this.rolling ??= this.store
      .rollUpEnds()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn({ err: error }, "rolling up the ended tasks for the stats failed; the next try or stats read does it"))
      .finally(() => (this.rolling = undefined));
    return this.rolling;
  }

  /** Resolves once no cleanup, vacuum or rollup of this worker's is running (stop waits for it). */
  async idle(): Promise<void> {
    // (a failed cleanup was logged by whoever started it)
    for (let running = this.cleaning ?? this.vacuuming ?? this.rolling; running; running = this.cleaning ?? this.vacuuming ?? this.rolling) await running.catch(() => undefined);
  }

  private async removeExpired(): Promise<void> {
    const removed = await this.store.deleteExpired(this.settings.resultTtlMs, this.settings.failedResultTtlMs);
    if (removed > 0) this.logger.info({ removed }, "removed finished tasks past their retention");
    const costs = await new SpendStore(this.store.db).deleteOlderThan(RUN_COST_RETENTION_MS);
    if (costs > 0) this.logger.info({ removed: costs }, "removed run costs past their retention");
    // Now and then the statistics too, for the API's listings (see TaskStore.vacuum).
    if (this.settings.vacuumEveryFinishes > 0 && (removed > 0 || this.finishedSinceVacuum > 0)) await this.vacuum({ analyze: true });
  }

  /**
   * One vacuum at a time: on PostgreSQL a second one would skip the table (SKIP_LOCKED) and do
   * nothing. Runs that finished meanwhile are counted toward the next one, which starts as soon as
   * this one ends if enough have.
   */
  private async vacuum(options: { analyze?: boolean } = {}): Promise<void> {
    if (this.vacuuming) return this.vacuuming;
    this.finishedSinceVacuum = 0;
    this.vacuuming = this.store
      .vacuum(options)
      .catch((error: unknown) => this.logger.warn({ err: error }, "vacuum failed"))
      .finally(() => {
        this.vacuuming = undefined;
        const every = this.settings.vacuumEveryFinishes;
        if (this.active() && every > 0 && this.finishedSinceVacuum >= every) void this.vacuum();
      });
    return this.vacuuming;
  }
}
