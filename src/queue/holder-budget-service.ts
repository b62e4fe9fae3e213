/**
 * Budgets per drive or per person set while the agents run, for the HTTP API and through it the
 * CLI and the dashboard (GET /api/budgets/drives, PUT and DELETE /api/budgets/drives/:drive; the
 * same under /api/budgets/people/:person). A budget set wins over the settings
 * (TASK_DRIVE_BUDGETS_USD_PER_DAY and TASK_BUDGET_USD_PER_DRIVE_PER_DAY; TASK_PERSON_BUDGETS_USD_PER_DAY
 * and TASK_BUDGET_USD_PER_PERSON_PER_DAY) on every worker at once; `usdPerDay: null` lets a drive's
 * writers or a person off any budget. After a change the holder's tasks that wait for its budget
 * are looked at again at once (a raised budget runs them, a lowered one sends them back saying so)
 * and the webhooks that ask are told if it now has room, or has spent it (budget.drive_available,
 * budget.person_spent, …; once across workers).
 */
import { z } from "zod";
import type { Logger } from "../logger.js";
import { PersonNameSchema } from "../security/identities.js";
import type { SpendStore } from "../store/spend-store.js";
import type { HolderKind } from "../store/sql/holder-budgets/budget-holder-tables.js";
import { tellHolderWebhooks, type HolderBudgets } from "../tasks/holder-budget.js";
import { holderBudgetEntry, listHolderBudgetEntries, type HolderBudgetEntry } from "../tasks/holder-budget-entries.js";
import type { BudgetEntry } from "../tasks/daily-budget-entry.js";
import { BUDGET_WINDOW_MS } from "../tasks/spend-budget.js";
import { costliestTasks, spendDays, type SpendReport } from "../tasks/spend-report.js";
import { ForbiddenError, parseWith, ValidationError } from "../validation.js";
import { BudgetInputSchema, tellChange } from "./budget-input.js";

/** A drive id as the settings take it (TASK_DRIVE_BUDGETS_USD_PER_DAY): no spaces, commas or '='. */
const DriveIdSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .regex(/^[^\s,=]+$/, "must be a drive id: no spaces, commas or '='");

/** How each kind's id is checked, and named in errors: a drive id, or a person's name as API_USERS spells it. */
const ID_SCHEMAS: Readonly<Record<HolderKind, { field: "drive" | "person"; schema: z.ZodType<string> }>> = {
  drive: { field: "drive", schema: DriveIdSchema },
  person: { field: "person", schema: PersonNameSchema },
};

/** A holder's entry as the API answers it: the budget, and whose — `driveId` or `person`. */
export type HolderEntryAnswer = BudgetEntry & { driveId?: string; person?: string };

/** What one holder spent: its budget (and the last 24 hours' spend against it), its days, its costliest tasks. */
export interface HolderSpendAnswer {
  budget: HolderEntryAnswer;
  days: SpendReport["days"];
  costliest: SpendReport["costliest"];
}

export interface HolderBudgetList {
  /** TASK_BUDGET_USD_PER_DRIVE_PER_DAY (or …_PER_PERSON_…): every holder without one of its own; null: none. */
  defaultUsdPerDay: number | null;
  entries: HolderEntryAnswer[];
}

export class HolderBudgetService {
  constructor(
    readonly store: SpendStore,
    private readonly budgets: HolderBudgets,
    private readonly logger: Logger,
  ) {}

  async list(): Promise<HolderBudgetList> {
    const entries = await listHolderBudgetEntries(this.store.db, this.budgets.kind, this.budgets);
    return { defaultUsdPerDay: this.budgets.defaultUsd ?? null, entries: entries.map((entry) => this.answer(entry)) };
  }

  /** One holder's entry, whatever gives it its budget — the default too, or none — and what it spent. */
  async get(holder: string): Promise<HolderEntryAnswer> {
    const id = this.parseId(holder, "budget");
    return this.answer(await holderBudgetEntry(this.store.db, this.budgets.kind, this.budgets, id));
  }

  /**
   * What one holder spent (`ph-tasks spend --by alice`, `--drive team`): its budget as `get` says
   * it, each of the last `days` UTC days by type, and its costliest tasks of the last 24 hours.
   */
  async report(holder: string, days: number): Promise<HolderSpendAnswer> {
    const id = this.parseId(holder, "spend");
    const whose = { kind: this.budgets.kind.kind, id };
    const [entry, perDay, costliest] = await Promise.all([holderBudgetEntry(this.store.db, this.budgets.kind, this.budgets, id), this.store.byDay(days, whose), this.store.costliestTasks(BUDGET_WINDOW_MS, 10, whose)]);
    return { budget: this.answer(entry), days: spendDays(perDay), costliest: costliestTasks(costliest) };
  }

  /** `input`: { usdPerDay: number | null, reason? }; `setBy`: who asked. Returns the holder's entry as it now is. */
  async set(holder: string, input: unknown, setBy: string): Promise<HolderEntryAnswer> {
    const id = this.parseId(holder, "budget");
    this.notOwn(id, setBy);
    const parsed = parseWith(BudgetInputSchema, input ?? {});
    if (!parsed.ok) throw new ValidationError(`${this.budgets.kind.kind} budget`, parsed.errors);
    await this.store.setHolderBudget({ kind: this.budgets.kind.kind, id }, parsed.value.usdPerDay, parsed.value.reason, setBy);
    return this.changed(id, "set", setBy);
  }

  /** Removes the budget set for a holder (its settings hold it again): its entry as it now is, or undefined when none was set. */
  async remove(holder: string, removedBy: string): Promise<HolderEntryAnswer | undefined> {
    const id = this.parseId(holder, "budget removal");
    this.notOwn(id, removedBy);
    if (!(await this.store.removeHolderBudget({ kind: this.budgets.kind.kind, id }))) return undefined;
    return this.changed(id, "removed", removedBy);
  }

  private parseId(holder: string, what: string): string {
    const { field, schema } = ID_SCHEMAS[this.budgets.kind.kind];
    const parsed = parseWith(z.object({ [field]: schema }), { [field]: holder });
    if (!parsed.ok) throw new ValidationError(`${this.budgets.kind.kind} ${what}`, parsed.errors);
    return String(parsed.value[field]);
  }

  /**
   * No one changes their own budget: a named user may do all that API_TOKEN may, so a budget its
   * holder could lift would hold no one. (A drive's writers cannot reach the API as the drive.)
   */
  private notOwn(id: string, by: string): void {
    if (this.budgets.kind.kind === "person" && id === by) throw new ForbiddenError(`${by} may not change their own daily budget: someone else may (API_TOKEN, or another name of API_USERS)`);
  }

  private answer({ holder, ...entry }: HolderBudgetEntry): HolderEntryAnswer {
    return { [this.budgets.kind.idField]: holder, ...entry };
  }

  /** After a change: the holder's held tasks looked at again, its webhooks told, its entry read back. */
  private async changed(id: string, change: "set" | "removed", by: string): Promise<HolderEntryAnswer> {
    const { kind } = this.budgets;
    const woken = await this.budgets.wakeHolds(id);
    if (woken > 0) this.logger.info({ [kind.idField]: id, tasks: woken }, `${woken} task(s) waiting for the budget of ${kind.label(id)} looked at again under its new budget`);
    await tellHolderWebhooks(this.budgets, this.logger, id, await this.budgets.read(id));
    const entry = this.answer(await holderBudgetEntry(this.store.db, kind, this.budgets, id));
    await tellChange(this.store, this.logger, { kind: kind.kind, change, by, ...entry });
    return entry;
  }
}
