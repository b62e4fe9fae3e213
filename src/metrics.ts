/**
 * Prometheus metrics (prom-client), one registry per agent: task durations by type and outcome,
 * counters of outcomes, queue depth and running gauges read from the store at scrape time,
 * reactor events seen. Exposed at /metrics by the HTTP server.
 */
import { SpendStore } from "./store/spend-store.js";
import { BUDGET_WINDOW_MS, dailyBudgetOf } from "./tasks/spend-budget.js";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { TypeConcurrencyStore } from "./store/type-concurrency-store.js";
import { RateLimitStore } from "./store/rate-limit-store.js";
import { WorkerStore } from "./store/worker-store.js";
import { workerState } from "./store/sql/workers/worker-row.js";
import type { RateLimitRow } from "./store/sql/rate-limits/rate-limit-row.js";
import { PauseStore } from "./store/pause-store.js";
import type { TaskStore } from "./store/task-store.js";

/** `read`, called again only when its last answer is older than a scrape (100 ms): the gauges of one scrape share it. */
function onePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > 100) last = { at: Date.now(), value: read() };
    return last.value;
  };
}

export class TaskMetrics {
  readonly registry = new Registry();
  readonly duration = new Histogram({
    name: "ph_tasks_duration_seconds",
    help: "Duration of task runs, by type and outcome",
    labelNames: ["type", "outcome"] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [this.registry],
  });
  readonly cpu = new Counter({ name: "ph_tasks_cpu_seconds_total", help: "CPU time of task runs, all their processes (known with TASK_CGROUP_ROOT only), by type and mode (user, system)", labelNames: ["type", "mode"] as const, registers: [this.registry] });
  readonly runCostUsd = new Counter({ name: "ph_tasks_run_cost_usd_total", help: "What runs recorded by this worker cost, in US dollars, as they report it (claude-code, claude-agent), by type", labelNames: ["type"] as const, registers: [this.registry] });
  readonly driveBudgetWaits = new Counter({ name: "ph_tasks_drive_budget_waits_total", help: "Claimed tasks this worker sent back to wait for their drive's daily budget (TASK_BUDGET_USD_PER_DRIVE_PER_DAY), by type", labelNames: ["type"] as const, registers: [this.registry] });
  readonly personBudgetWaits = new Counter({ name: "ph_tasks_person_budget_waits_total", help: "Claimed tasks this worker sent back to wait for the daily budget of the person who asked (TASK_BUDGET_USD_PER_PERSON_PER_DAY), by type", labelNames: ["type"] as const, registers: [this.registry] });
  readonly completed = new Counter({ name: "ph_tasks_completed_total", help: "Tasks completed", labelNames: ["type"] as const, registers: [this.registry] });
  readonly failed = new Counter({ name: "ph_tasks_failed_total", help: "Tasks failed for good", labelNames: ["type", "code"] as const, registers: [this.registry] });
  readonly retried = new Counter({ name: "ph_tasks_retried_total", help: "Runs that failed and were scheduled again", labelNames: ["type"] as const, registers: [this.registry] });
  readonly cancelled = new Counter({ name: "ph_tasks_cancelled_total", help: "Tasks cancelled", labelNames: ["type"] as const, registers: [this.registry] });
  readonly created = new Counter({ name: "ph_tasks_created_total", help: "Tasks accepted", labelNames: ["type"] as const, registers: [this.registry] });
  readonly scheduleFirings = new Counter({ name: "ph_tasks_schedule_firings_total", help: "Occurrences of cron schedules handled by this worker, by outcome (fired, skipped: the last task still ran, failed)", labelNames: ["outcome"] as const, registers: [this.registry] });
  readonly hookDeliveries = new Counter({ name: "ph_tasks_hook_deliveries_total", help: "Deliveries to inbound webhooks, by outcome (accepted, duplicate: its task existed, rejected, rate_limited: beyond the hook's rate limit)", labelNames: ["outcome"] as const, registers: [this.registry] });
  readonly webhookDeliveries = new Counter({ name: "ph_tasks_webhook_deliveries_total", help: "Attempts to send outbound webhook deliveries by this worker, by outcome (delivered, retrying: failed and tried again later, dead: failed for good)", labelNames: ["outcome"] as const, registers: [this.registry] });
  readonly reactorEvents = new Counter({ name: "ph_tasks_reactor_events_total", help: "Reactor events seen by the task event handler", labelNames: ["event"] as const, registers: [this.registry] });

  /** `types`: the task types to report even at zero (so a dashboard sees 0, not nothing). */
  constructor(options: { store?: TaskStore; types?: readonly string[]; defaultMetrics?: boolean; budgetUsdPerDay?: number | undefined; budgetUsdPerDrivePerDay?: number | undefined; budgetUsdPerPersonPerDay?: number | undefined } = {}) {
    const store = options.store;
    if (store) {
      // Both gauges of one scrape share one read (of the pending and running tasks only).
      const active = onePerScrape(() => store.countActive());
      const countsFor = (status: string) =>
        async function collect(this: Gauge<"type">) {
          this.reset();
          for (const type of options.types ?? []) this.set({ type }, 0);
          for (const row of await active()) if (row.status === status) this.set({ type: row.type }, row.count);
        };
      new Gauge({ name: "ph_tasks_queue_depth", help: "Tasks waiting to run (all workers)", labelNames: ["type"] as const, registers: [this.registry], collect: countsFor("pending") });
      new Gauge({ name: "ph_tasks_running", help: "Tasks running (all workers)", labelNames: ["type"] as const, registers: [this.registry], collect: countsFor("running") });
      const pauses = new PauseStore(store.db);
      new Gauge({
        name: "ph_tasks_paused",
        help: "1 for each task type paused for every worker (ph-tasks queue pause; type \"*\": every type)",
        labelNames: ["type"] as const,
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const row of await pauses.list()) this.set({ type: row.task_type }, 1);
        },
      });
    }
    if (store) {
      const limits = new RateLimitStore(store.db);
      // The three gauges of one scrape share one read of the limits.
      const current = onePerScrape(() => limits.list());
      const rateGauge = (name: string, help: string, value: (row: RateLimitRow) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ["type"] as const,
          registers: [this.registry],
          async collect() {
            this.reset();
            for (const row of await current()) this.set({ type: row.key }, value(row));
          },
        });
      rateGauge("ph_tasks_rate_limit", "Starts a rate-limited task type may make per window (ph-tasks queue limit)", (row) => row.max_starts);
      rateGauge("ph_tasks_rate_limit_window_seconds", "The window of a task type's rate limit", (row) => row.per_ms / 1000);
      rateGauge("ph_tasks_rate_limit_used", "Starts of a rate-limited task type in its current window (all workers)", (row) => row.used);
      const caps = new TypeConcurrencyStore(store.db);
      new Gauge({
        name: "ph_tasks_concurrency_cap",
        help: "Tasks of a type that may run at once across every worker (ph-tasks queue concurrency); ph_tasks_running says how many do",
        labelNames: ["type"] as const,
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const row of await caps.list()) this.set({ type: row.task_type }, row.max_running);
        },
      });
      const spend = new SpendStore(store.db);
      new Gauge({
        name: "ph_tasks_spend_last_24h_usd",
        help: "What runs that report a cost (claude-code, claude-agent) cost in the last 24 hours, all workers, in US dollars (ph-tasks spend; TASK_BUDGET_USD_PER_DAY holds them once it is reached)",
        registers: [this.registry],
        async collect() {
          this.set((await spend.inWindow(BUDGET_WINDOW_MS, null)).spentUsd);
        },
      });
      // Beside the spend, for an alert: spend / budget ≥ 1 means Claude tasks wait.
      // Read at each scrape: a budget set while the agents run (ph-tasks budget daily) wins over the setting. NaN: none holds (an alert on spend / budget stays quiet).
      const settingUsd = options.budgetUsdPerDay;
      new Gauge({
        name: "ph_tasks_budget_usd_per_day",
        help: "The daily budget: what runs that cost money may spend in 24 hours, all workers (set with ph-tasks budget daily, else TASK_BUDGET_USD_PER_DAY); NaN when none holds",
        registers: [this.registry],
        async collect() {
          this.set(dailyBudgetOf(settingUsd, await spend.dailyBudget())?.usd ?? Number.NaN);
        },
      });
      if (options.budgetUsdPerDrivePerDay !== undefined) new Gauge({ name: "ph_tasks_budget_usd_per_drive_per_day", help: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY: what the runs one drive's writers ask for may spend in 24 hours (this agent's setting)", registers: [this.registry] }).set(options.budgetUsdPerDrivePerDay);
      // For an alert that does not wait for a webhook: drives whose writers' Claude tasks wait now.
      new Gauge({
        name: "ph_tasks_drives_over_budget",
        help: "Drives whose writers have spent their daily budget, as the workers last recorded it (their Claude tasks wait; ph-tasks budget)",
        registers: [this.registry],
        async collect() {
          this.set(await spend.spentHolderCount("drive"));
        },
      });
      if (options.budgetUsdPerPersonPerDay !== undefined) new Gauge({ name: "ph_tasks_budget_usd_per_person_per_day", help: "TASK_BUDGET_USD_PER_PERSON_PER_DAY: what the runs one named person asks for may spend in 24 hours (this agent's setting)", registers: [this.registry] }).set(options.budgetUsdPerPersonPerDay);
      new Gauge({
        name: "ph_tasks_people_over_budget",
        help: "People who have spent their daily budget, as the workers last recorded it (the Claude tasks they ask for wait; ph-tasks budget person)",
        registers: [this.registry],
        async collect() {
          this.set(await spend.spentHolderCount("person"));
        },
      });
      const workers = new WorkerStore(store.db);
      new Gauge({
        name: "ph_tasks_workers",
        help: "Workers sharing the task store, by state (running; draining, drained: asked to claim nothing more; stopping; lost: not heard from for longer than its lease, kept an hour)",
        labelNames: ["state"] as const,
        registers: [this.registry],
        async collect() {
          const counts = { running: 0, draining: 0, drained: 0, stopping: 0, lost: 0 };
          for (const row of await workers.list()) counts[workerState(row)]++;
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        },
      });
    }
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "ph_tasks_process_" });
  }
}

const RunCpuSchema = z.object({ userMs: z.number().nonnegative(), systemMs: z.number().nonnegative() });

/** Counts the CPU a run's result reports (`cpu: { userMs, systemMs }`, see run-cgroup.ts); nothing when it has none. */
export function countRunCpu(metrics: TaskMetrics | undefined, type: string, result: unknown): void {
  if (!metrics || typeof result !== "object" || result === null || !("cpu" in result)) return;
  const cpu = RunCpuSchema.safeParse(result.cpu);
  if (!cpu.success) return;
  metrics.cpu.inc({ type, mode: "user" }, cpu.data.userMs / 1000);
  metrics.cpu.inc({ type, mode: "system" }, cpu.data.systemMs / 1000);
}
