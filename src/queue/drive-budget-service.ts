/**
 * Drive budgets set while the agents run, for the HTTP API and through it the CLI and the
 * dashboard (GET /api/budgets/drives, PUT and DELETE /api/budgets/drives/:drive). A budget set
 * wins over the settings (TASK_DRIVE_BUDGETS_USD_PER_DAY, TASK_BUDGET_USD_PER_DRIVE_PER_DAY) on
 * every worker at once; `usdPerDay: null` lets a drive's writers off any budget. After a change
 * the drive's tasks that wait for its budget are looked at again at once (a raised budget runs
 * them, a lowered one sends them back saying so) and the webhooks that ask are told if the drive
 * now has room, or has spent it (budget.drive_available, budget.drive_spent; once across workers).
 */
import { z } from "zod";
import type { Logger } from "../logger.js";
import { CHANNELS } from "../store/db.js";
import type { SpendStore } from "../store/spend-store.js";
import { tellDriveWebhooks, type DriveBudgets } from "../tasks/drive-budget.js";
import { driveBudgetEntry, listDriveBudgetEntries, type DriveBudgetEntry } from "../tasks/drive-budget-entries.js";
import { parseWith, ValidationError } from "../validation.js";
import { BudgetInputSchema, tellChange } from "./budget-input.js";

/** A drive id as the settings take it (TASK_DRIVE_BUDGETS_USD_PER_DAY): no spaces, commas or '='. */
const DriveIdSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .regex(/^[^\s,=]+$/, "must be a drive id: no spaces, commas or '='");


export interface DriveBudgetList {
  /** TASK_BUDGET_USD_PER_DRIVE_PER_DAY: every drive without one of its own; null: none. */
  defaultUsdPerDay: number | null;
  drives: DriveBudgetEntry[];
}

export class DriveBudgetService {
  constructor(
    private readonly store: SpendStore,
    private readonly budgets: DriveBudgets,
    private readonly logger: Logger,
  ) {}

  async list(): Promise<DriveBudgetList> {
    return { defaultUsdPerDay: this.budgets.defaultUsd ?? null, drives: await listDriveBudgetEntries(this.store.db, this.budgets) };
  }

  /** `input`: { usdPerDay: number | null, reason? }; `setBy`: who asked. Returns the drive's entry as it now is. */
  async set(drive: string, input: unknown, setBy: string): Promise<DriveBudgetEntry> {
    const driveId = this.parseDrive(drive, "drive budget");
    const parsed = parseWith(BudgetInputSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError("drive budget", parsed.errors);
    await this.store.setDriveBudget(driveId, parsed.value.usdPerDay, parsed.value.reason, setBy);
    return this.changed(driveId, "set", setBy);
  }

  /** Removes the budget set for a drive (its settings hold it again): its entry as it now is, or undefined when none was set. */
  async remove(drive: string, removedBy: string): Promise<DriveBudgetEntry | undefined> {
    const driveId = this.parseDrive(drive, "drive budget removal");
    if (!(await this.store.removeDriveBudget(driveId))) return undefined;
    return this.changed(driveId, "removed", removedBy);
  }

  private parseDrive(drive: string, what: string): string {
    const parsed = parseWith(z.object({ drive: DriveIdSchema }), { drive });
    if (!parsed.ok) throw new ValidationError(what, parsed.errors);
    return parsed.value.drive;
  }

  /** After a change: the drive's held tasks looked at again, its webhooks told, its entry read back. */
  private async changed(driveId: string, change: "set" | "removed", by: string): Promise<DriveBudgetEntry> {
    const woken = await this.store.wakeDriveHolds(driveId);
    if (woken.length > 0) await this.store.db.notify(CHANNELS.wakeup, "");
    if (woken.length > 0) this.logger.info({ driveId, tasks: woken.length }, `${woken.length} task(s) waiting for drive ${driveId}'s budget looked at again under its new budget`);
    await tellDriveWebhooks(this.budgets, this.logger, driveId, await this.budgets.readDrive(driveId));
    const entry = await driveBudgetEntry(this.store.db, this.budgets, driveId);
    await tellChange(this.store, this.logger, { kind: "drive", change, by, ...entry });
    return entry;
  }
}
