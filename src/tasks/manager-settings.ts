/**
 * What the manager needs from the configuration, in one object, so tests and embedders can
 * build a manager without environment variables.
 */
import { hostname } from "node:os";
import type { Config } from "../config.js";
import { agentSecrets } from "../security/redactor.js";
import type { RetryPolicy } from "./retry-policy.js";

export interface ManagerSettings {
  workerId: string;
  maxConcurrent: number;
  /**
   * Tasks claimed beyond the free slots while runs are short, ready to start when a slot frees
   * (see claim-pump.ts); 0: claim only for free slots. Absent: 0.
   */
  prefetch?: number;
  /** Prefetch is on while the recent runs average at most this long. Absent: PREFETCH_MAX_RUN_MS (50 ms). */
  prefetchMaxRunMs?: number;
  /** A task claimed ahead that waited this long for a slot goes back to the queue. Absent: READY_MAX_WAIT_MS (1 s). */
  readyMaxWaitMs?: number;
  maxPerDocument: number;
  maxPerDrive: number;
  /** Local caps per task type, on top of maxConcurrent (e.g. Claude tasks are CPU-heavy to start). */
  typeConcurrency: Record<string, number>;
  retry: RetryPolicy;
  defaultMaxAttempts: number;
  defaultTimeoutMs: number;
  agingMs: number;
  leaseMs: number;
  /** How often leases are renewed and cancel requests from other processes are looked for. */
  heartbeatMs: number;
  /** Safety net for lost notifications and slots freed elsewhere. */
  pollIntervalMs: number;
  cleanupIntervalMs: number;
  /**
   * How often this worker rolls the ended tasks up for the stats (sql/roll-up-finished.ts; default a
   * minute), so that a dashboard opened after a busy hour need not roll the hour up itself.
   */
  rollupIntervalMs?: number;
  /** How often a worker looks again at the drives recorded as spent, to tell when one has room (default 60 s; tests set less). */
  spentDrivesRecheckMs?: number;
  resultTtlMs: number;
  /** Failed tasks are kept this long instead (TASK_FAILED_RESULT_TTL); absent: resultTtlMs. */
  failedResultTtlMs?: number;
  outputCapBytes: number;
  shutdownGraceMs: number;
  /** An executor still running this long after it was told to stop is abandoned (execute-attempt.ts). */
  abandonAfterMs?: number;
  /** VACUUM the store after this many finished runs (0: never, leave it to autovacuum). */
  vacuumEveryFinishes: number;
  /** US dollars that runs which report a cost may spend in 24 hours, across workers (spend-budget.ts); absent: no budget. */
  budgetUsdPerDay?: number;
  /** US dollars that the runs one drive's writers ask for may spend in 24 hours, across workers (holder-budget.ts); absent: none. */
  budgetUsdPerDrivePerDay?: number;
  /** The share of a daily budget (the store's, each drive's) whose crossing the webhooks are told (TASK_BUDGET_WARN_AT_PERCENT; default 80). */
  budgetWarnAtPercent?: number;
  /** Named drives' own budgets, instead of budgetUsdPerDrivePerDay (TASK_DRIVE_BUDGETS_USD_PER_DAY). */
  driveBudgetsUsdPerDay?: Readonly<Record<string, number>>;
  /** US dollars that the runs one named person asks for may spend in 24 hours, across workers (holder-budget.ts); absent: none. */
  budgetUsdPerPersonPerDay?: number;
  /** Named people's own budgets, instead of budgetUsdPerPersonPerDay (TASK_PERSON_BUDGETS_USD_PER_DAY). */
  personBudgetsUsdPerDay?: Readonly<Record<string, number>>;
  /** Values replaced by [REDACTED] in tasks' output, progress, results and errors (the agent's secrets). */
  secrets?: readonly string[];
}

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}`;
}

export function managerSettingsFromConfig(config: Config): ManagerSettings {
  return {
    workerId: config.WORKER_ID ?? defaultWorkerId(),
    maxConcurrent: config.TASK_MAX_CONCURRENT,
    prefetch: config.TASK_PREFETCH ?? 2 * config.TASK_MAX_CONCURRENT,
    maxPerDocument: config.TASK_MAX_PER_DOCUMENT,
    maxPerDrive: config.TASK_MAX_PER_DRIVE,
    typeConcurrency: { "claude-code": config.CLAUDE_MAX_CONCURRENT, "claude-agent": config.CLAUDE_MAX_CONCURRENT },
    retry: { baseMs: config.TASK_RETRY_BASE_MS, maxMs: config.TASK_RETRY_MAX_MS },
    defaultMaxAttempts: config.TASK_RETRY_ATTEMPTS,
    defaultTimeoutMs: config.TASK_TIMEOUT_MS,
    agingMs: config.TASK_AGING_MS,
    leaseMs: config.TASK_LEASE_MS,
    heartbeatMs: Math.min(1000, Math.floor(config.TASK_LEASE_MS / 3)),
    pollIntervalMs: 2000,
    cleanupIntervalMs: Math.max(10_000, Math.min(3_600_000, Math.floor(Math.min(config.TASK_RESULT_TTL, config.TASK_FAILED_RESULT_TTL ?? Infinity) / 10))),
    resultTtlMs: config.TASK_RESULT_TTL,
    ...(config.TASK_FAILED_RESULT_TTL !== undefined ? { failedResultTtlMs: config.TASK_FAILED_RESULT_TTL } : {}),
    outputCapBytes: config.TASK_OUTPUT_CAP_BYTES,
    shutdownGraceMs: config.TASK_SHUTDOWN_GRACE_MS,
    // Past the executors' own stop (SIGTERM, the kill grace, SIGKILL, the wait for the group).
    abandonAfterMs: 2 * config.TASK_KILL_GRACE_MS + 5000,
    vacuumEveryFinishes: config.TASK_STORE_VACUUM_EVERY,
    ...(config.TASK_BUDGET_USD_PER_DAY !== undefined ? { budgetUsdPerDay: config.TASK_BUDGET_USD_PER_DAY } : {}),
    ...(config.TASK_BUDGET_USD_PER_DRIVE_PER_DAY !== undefined ? { budgetUsdPerDrivePerDay: config.TASK_BUDGET_USD_PER_DRIVE_PER_DAY } : {}),
    driveBudgetsUsdPerDay: config.TASK_DRIVE_BUDGETS_USD_PER_DAY,
    ...(config.TASK_BUDGET_USD_PER_PERSON_PER_DAY !== undefined ? { budgetUsdPerPersonPerDay: config.TASK_BUDGET_USD_PER_PERSON_PER_DAY } : {}),
    personBudgetsUsdPerDay: config.TASK_PERSON_BUDGETS_USD_PER_DAY,
    budgetWarnAtPercent: config.TASK_BUDGET_WARN_AT_PERCENT,
    secrets: agentSecrets(config),
  };
}
