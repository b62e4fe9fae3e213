/**
 * `ph-tasks doctor`: what would stop the agent from starting or from running tasks, found before a
 * user runs into it — the configuration, the task store, the allowed roots, the command allow-list,
 * the claude binary, the
 * API key, the listen address, and whether an agent already answers at PH_TASKS_URL. Each check says
 * ok, warn (the agent runs, something will fail) or fail (it will not start, or nothing can run);
 * none changes anything (the embedded store's directory is only looked at: an agent may hold it).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { isLoopback } from "../http/auth.js";
import { LATEST_MIGRATION } from "../store/migrate.js";
import type { Queryable } from "../store/db.js";
import { knownPeople } from "../security/known-people.js";
import { personBudgetSettingsProblem } from "../tasks/person-budget-names.js";
import { describeUndecidable, undecidableApprovals } from "../tasks/undecidable-approvals.js";
import { selectWindowSpend } from "../store/sql/spend/select-window-spend.js";
import { holderBudgetsOf, holderResumesAt } from "../tasks/holder-budget-entries.js";
import { DRIVE_HOLDER, PERSON_HOLDER, type BudgetHolder } from "../tasks/budget-holders.js";
import { listHolderBudgets } from "../store/sql/holder-budgets/list-holder-budgets.js";
import { HOLDER_TABLES } from "../store/sql/holder-budgets/budget-holder-tables.js";
import { selectSpendGrouped } from "../store/sql/spend/select-spend-grouped.js";
import { BUDGET_WINDOW_MS, dailyBudgetOf, DAILY_BUDGET_SETTING, dollars, storedSetting } from "../tasks/spend-budget.js";
import { selectDailyBudget } from "../store/sql/daily-budget/select-daily-budget.js";
import { describeBlindWorkers, workersBlindTo } from "../tasks/budget-blind-workers.js";
import { dataDirHolder } from "../store/data-dir-lock.js";
import { movedStoreProblem } from "../store/moved-store.js";
import { describeMode, openToOthers } from "../security/private-data-dir.js";
import { otherLoginUsersHere } from "./other-users.js";
import { peerUsersKnown } from "../http/peer-user.js";
import { incompatibility, newerButCompatible } from "../store/schema-compatibility.js";
import { locateClaudeBinary } from "../tasks/executors/claude/locate-claude-binary.js";
import { allowedPrograms, findOnPath, isExecutableFile } from "../tasks/executors/command-allowlist.js";
import { deadAgentsLeft } from "../tasks/executors/agent-cgroup.js";
import { cgroupRootProblem } from "../tasks/executors/run-cgroup.js";
import { agentLimits, agentLimitsProblem, describeLimits, hasLimits, hasProcessLimits } from "../tasks/executors/run-limits.js";
import { claudeRoomProblem } from "../tasks/executors/claude/claude-limits.js";
import { accessProblems, resolveRunUser, runAsProblem } from "../tasks/executors/run-as-user.js";
import { openEndedSecrets } from "../security/task-secrets.js";
import { describeUnknown, unknownVariables } from "../unknown-variables.js";
import { describeOpenEnded, openEndedEntries } from "../security/open-ended-entries.js";
import { DEFAULT_PATH } from "../tasks/executors/safe-env.js";

export type CheckLevel = "ok" | "warn" | "fail";
export interface CheckResult {
  name: string;
  level: CheckLevel;
  detail: string;
}

const result = (name: string, level: CheckLevel, detail: string): CheckResult => ({ name, level, detail });

async function checkStore(config: Config): Promise<CheckResult> {
  if (!config.DATABASE_URL) {
    const dir = config.dataDir;
    // The nearest directory that exists must be writable: the agent makes the rest.
    let existing = dir;
    while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    try {
      accessSync(existing, constants.W_OK);
    } catch {
      return result("task store", "fail", `embedded PGlite in ${dir}: ${existing} is not writable`);
    }
    const moved = movedStoreProblem(dir);
    if (moved) return result("task store", "fail", moved);
    const open = openToOthers(dir);
    if (open) return result("task store", "warn", `embedded PGlite in ${dir}: other users may enter it (mode ${describeMode(open.mode)}) and read or change the task store; the agent makes it 0700 at its next start`);
    const holder = dataDirHolder(dir);
    const held = holder ? `; held by ${holder.command} (pid ${holder.pid}, since ${holder.since}): another agent or a store copy on it is refused while it runs` : "";
    return result("task store", "ok", `embedded PGlite in ${dir}${existsSync(dir) ? " (private to this user)" : " (made at the first start, private to this user)"}${held}`);
  }
  const where = new URL(config.DATABASE_URL);
  const label = `PostgreSQL at ${where.host}${where.pathname}`;
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: number | null }>("SELECT (SELECT max(version) FROM ph_tasks_migrations) AS version").catch(() => ({ rows: [{ version: null }] }));
    const version = rows[0]?.version ?? null;
    if (version === null) return result("task store", "ok", `${label}: reachable; its tables are made at the first start`);
    if (version > LATEST_MIGRATION) {
      // Since 029 a store says which agents it admits; one newer than that without it admits none of ours.
      const oldest = (await client.query<{ n: number }>("SELECT oldest_agent_schema AS n FROM ph_tasks_schema").catch(() => ({ rows: [] }))).rows[0]?.n ?? version;
      const state = { version, oldestAgentSchema: oldest };
      const refused = incompatibility(state);
      if (refused) return result("task store", "fail", `${label}: ${refused}`);
      return result("task store", "warn", `${label}: ${newerButCompatible(state) ?? ""}`);
    }
    return result("task store", "ok", `${label}: reachable, schema version ${version}${version < LATEST_MIGRATION ? ` (migrated to ${LATEST_MIGRATION} at the next start)` : ""}`);
  } catch (error) {
    return result("task store", "fail", `${label}: cannot connect (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The title search's trigram index on a PostgreSQL store (migration 028): where pg_trgm could not
 * be created, title searches read every title — said, with what a database owner can run.
 */
async function checkTitleSearch(config: Config): Promise<CheckResult[]> {
  if (!config.DATABASE_URL) return []; // PGlite brings its own pg_trgm
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ schema: string; indexed: boolean }>(
      `SELECT n.nspname AS schema, EXISTS (SELECT 1 FROM pg_indexes i WHERE i.schemaname = n.nspname AND i.indexname = 'ph_task_titles_trgm') AS indexed
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('ph_task_titles')`,
    );
    const table = rows[0];
    if (!table) return []; // not migrated yet (the store check says so)
    if (table.indexed) return [result("title search", "ok", "through a trigram index (pg_trgm)")];
    return [result("title search", "warn", "pg_trgm could not be created, so a title search reads every title; as the database's owner run CREATE EXTENSION pg_trgm; and the agent indexes the titles at its next start")];
  } catch {
    return []; // unreachable: the store check says so
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The workers on a shared PostgreSQL store (ph_workers, migration 024): a lost one (not heard from
 * for longer than its lease; listed an hour) is a warning — a worker was killed or cut off.
 */
async function checkWorkers(config: Config): Promise<CheckResult[]> {
  if (!config.DATABASE_URL) return [];
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ worker_id: string; lost: boolean; last_seen_at: Date; schema_version: number | null; store_version: number }>(
      `SELECT worker_id, last_seen_at < now() - make_interval(secs => lease_ms / 1000.0) AS lost, last_seen_at, schema_version,
              (SELECT max(version) FROM ph_tasks_migrations) AS store_version
       FROM ph_workers ORDER BY last_seen_at DESC`,
    );
    const lost = rows.filter((r) => r.lost);
    // A live worker of an older version goes on (029 lets it when nothing breaks), but what later
    // migrations added it does not apply: 030's timestamped-only hooks, hook limits and rotation grace.
    const older = rows.filter((r) => !r.lost && (r.schema_version ?? 0) < r.store_version);
    const alive = `${rows.length - lost.length} running`;
    const problems = [
      ...(lost.length > 0 ? [`lost: ${lost.map((r) => `${r.worker_id} (last seen ${r.last_seen_at.toISOString()})`).join(", ")} — killed or cut off; its tasks went back to the queue`] : []),
      ...(older.length > 0 ? [`older: ${older.map((r) => `${r.worker_id} (schema ${r.schema_version ?? "before 29"})`).join(", ")}, the store is at ${older[0]!.store_version} — what later versions added (e.g. 30: timestamped-only hooks, hook rate limits, a rotated secret's grace period) is not applied by it; upgrade it`] : []),
    ];
    return [problems.length === 0 ? result("workers", "ok", alive) : result("workers", "warn", `${alive}; ${problems.join("; ")}`)];
  } catch {
    return []; // unreachable (the store check says so) or not migrated yet: nothing to say
  } finally {
    await client.end().catch(() => undefined);
  }
}

function checkRoots(config: Config): CheckResult {
  const bad = config.allowedRoots.filter((root) => !existsSync(root) || !statSync(root).isDirectory());
  // None usable: no CLI task can run anywhere.
  const level = bad.length === config.allowedRoots.length ? "fail" : "warn";
  if (bad.length > 0) return result("allowed roots", level, `not a directory: ${bad.join(", ")} (TASK_ALLOWED_ROOTS): CLI tasks there are refused`);
  return result("allowed roots", "ok", config.allowedRoots.join(", "));
}

/** TASK_CGROUP_ROOT usable (the agent refuses to start otherwise), or what setting it would close. */
function checkCgroup(config: Config): CheckResult {
  const root = config.TASK_CGROUP_ROOT;
  if (!root) return result("run cgroups", "ok", "off (TASK_CGROUP_ROOT is not set): a task's process that clears its environment and leaves its group outlives the run");
  const problem = cgroupRootProblem(root);
  if (problem) return result("run cgroups", "fail", `TASK_CGROUP_ROOT=${root} ${problem}: the agent will not start`);
  const dead = deadAgentsLeft(root);
  if (dead.length > 0) {
    const processes = dead.reduce((sum, d) => sum + d.processes, 0);
    return result("run cgroups", "warn", `${processes} process(es) of runs of ${dead.length} dead agent(s) still going under ${root} (${dead.map((d) => path.basename(d.dir)).join(", ")}): an agent starting here ends them`);
  }
  return result("run cgroups", "ok", `each run in a cgroup of its own under ${root}`);
}

/** TASK_LIMIT_* applicable here (the agent refuses to start otherwise), and enough for claude. */
function checkLimits(config: Config): CheckResult {
  const limits = agentLimits(config);
  if (!hasLimits(limits)) return result("run limits", "ok", "none (TASK_LIMIT_* not set): a run's processes may use what the agent's user may; a task may set its own (limits)");
  const problem = agentLimitsProblem(limits, config.TASK_CGROUP_ROOT);
  if (problem) return result("run limits", "fail", `${problem.field}=${problem.value ?? ""} ${problem.message}: the agent will not start`);
  const claude = claudeRoomProblem(limits);
  if (claude) return result("run limits", "warn", `${claude}: claude-code and claude-agent tasks are refused`);
  const described = describeLimits(limits);
  return result("run limits", "ok", hasProcessLimits(limits) ? `each process of a run: ${described}` : `a run's processes ${described}`);
}

/** TASK_RUN_AS_USER usable (the agent refuses to start otherwise); runs as root without it are a warning. */
function checkRunUser(config: Config): CheckResult {
  const spec = config.TASK_RUN_AS_USER;
  if (spec === undefined) {
    const uid = process.getuid?.();
    if (uid === 0) return result("run user", "warn", "runs have root, as the agent does (TASK_RUN_AS_USER is not set): a task may read and change anything here, the agent's secrets included; set TASK_RUN_AS_USER to an unprivileged account");
    return result("run user", "ok", "the agent's own (TASK_RUN_AS_USER is not set): a run may read what the agent may — its data directory, and through /proc the environment it started with");
  }
  const user = resolveRunUser(spec);
  const problem = "problem" in user ? user.problem : runAsProblem();
  if (problem || "problem" in user) return result("run user", "fail", `TASK_RUN_AS_USER=${spec} ${problem ?? ""}: the agent will not start`);
  const cannot = accessProblems(user, config.allowedRoots, locateClaudeBinary(config.CLAUDE_CLI_PATH));
  const who = `uid ${user.uid} (${user.name}), gid ${user.gid}`;
  if (cannot.length > 0) return result("run user", "warn", `runs have ${who}, which cannot ${cannot.join(", nor ")}: its tasks there fail`);
  return result("run user", "ok", `runs have ${who}, no supplementary groups, no new privileges`);
}

/** The programs (names or absolute paths) a task's run would not find, as the allow-list looks them up. */
async function programsNotFound(programs: readonly string[], agentPath: string): Promise<string[]> {
  const missing: string[] = [];
  for (const program of programs) {
    const found = path.isAbsolute(program) ? await isExecutableFile(program) : (await findOnPath(program, agentPath)) !== undefined;
    if (!found) missing.push(program);
  }
  return missing;
}

/** TASK_SECRETS: each secret's programs found on the agent's PATH; one given to a command that runs anything is a warning. */
async function checkSecrets(config: Config, agentPath: string): Promise<CheckResult> {
  const secrets = Object.entries(config.TASK_SECRETS);
  if (secrets.length === 0) return result("secrets", "ok", "none (TASK_SECRETS is not set)");
  const missing: string[] = [];
  for (const [name, secret] of secrets) missing.push(...(await programsNotFound(allowedPrograms(secret.commands), agentPath)).map((program) => `"${name}": ${program}`));
  const open = openEndedSecrets(config.TASK_SECRETS);
  if (missing.length > 0) return result("secrets", "warn", `not found on the agent's PATH or not executable: ${missing.join(", ")}: tasks naming them fail${open ? `; and ${open}` : ""}`);
  if (open) return result("secrets", "warn", open);
  return result("secrets", "ok", secrets.map(([name, secret]) => `"${name}" in ${secret.variable} for ${secret.commands.join(", ")}`).join("; "));
}

/** Each program of TASK_COMMAND_ALLOWLIST found where a task's run will look for it (the agent's PATH). */
async function checkCommands(config: Config, agentPath: string): Promise<CheckResult> {
  const list = config.TASK_COMMAND_ALLOWLIST;
  const env = config.TASK_ENV_ALLOWLIST;
  if (list.length === 0) return result("commands", "ok", `any program may run (TASK_COMMAND_ALLOWLIST is not set)${env.length > 0 ? `; tasks may set ${env.join(", ")}` : ""}`);
  const programs = allowedPrograms(list);
  const missing = await programsNotFound(programs, agentPath);
  const variables = `tasks may set ${env.length > 0 ? env.join(", ") : "no environment variable"} (TASK_ENV_ALLOWLIST)`;
  const open = openEndedEntries(list);
  const openNote = open.length > 0 ? describeOpenEnded(open) : undefined;
  if (missing.length === 0) return openNote ? result("commands", "warn", openNote) : result("commands", "ok", `only ${list.join(", ")} (each found); ${variables}`);
  // None runnable: no CLI task can run.
  const level = missing.length === programs.length ? "fail" : "warn";
  return result("commands", level, `not found on the agent's PATH or not executable: ${missing.join(", ")} (TASK_COMMAND_ALLOWLIST): tasks naming them fail${openNote ? `; and ${openNote}` : ""}`);
}

function checkClaude(config: Config): CheckResult[] {
  const binary = locateClaudeBinary(config.CLAUDE_CLI_PATH);
  const found = binary ? spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 15_000 }) : undefined;
  const claude = !binary
    ? result("claude binary", "warn", "not found (install with optional packages, or set CLAUDE_CLI_PATH): Claude tasks fail at once")
    : found?.status === 0
      ? result("claude binary", "ok", `${found.stdout.trim()} (${binary})`)
      : result("claude binary", "warn", `${binary} does not run (${found?.error?.message ?? found?.stderr.trim() ?? "no answer"}): Claude tasks fail at once`);
  const key = config.ANTHROPIC_API_KEY
    ? result("API key", "ok", `ANTHROPIC_API_KEY is set${config.ANTHROPIC_BASE_URL ? `; Messages API at ${config.ANTHROPIC_BASE_URL}` : ""}`)
    : result("API key", "warn", "ANTHROPIC_API_KEY is not set: Claude tasks fail at once with a clear error; CLI tasks run");
  return [claude, key];
}

/** Who may start work from documents (a synced drive without a list is refused by the configuration). */
function checkWriters(config: Config): CheckResult {
  const keys = config.TASK_AUTHORIZED_WRITERS.length;
  const drives = config.REMOTE_DRIVE_URL ? `the local drive and ${config.REMOTE_DRIVE_URL}` : "the local drive";
  if (keys > 0) return result("writers", "ok", `only operations signed by ${keys} listed app key${keys === 1 ? "" : "s"} start or cancel work in ${drives}`);
  if (config.REMOTE_DRIVE_URL) return result("writers", "warn", `anyone who can write ${config.REMOTE_DRIVE_URL} starts tasks here (TASK_ALLOW_ANY_WRITER=true)`);
  return result("writers", "ok", "no writer list: whoever can write the local drive starts tasks — through this agent's API and /mcp only");
}

/** Budgets per person for names no one is known by here, or a default with no one named: they hold no one. */
function checkPersonBudgets(config: Config): CheckResult[] {
  const problem = personBudgetSettingsProblem(config);
  return problem ? [result("person budgets", "warn", problem)] : [];
}

function checkListen(config: Config, otherUsers: readonly string[]): CheckResult {
  const where = `${config.HOST}:${config.PORT}`;
  if (!isLoopback(config.HOST) && !config.API_TOKEN) return result("HTTP", "fail", `${where} is not loopback and API_TOKEN is not set: the agent refuses to start (anyone who can reach it could run commands)`);
  const names = ["a loopback name", ...config.HTTP_ALLOWED_HOSTS].join(" or ");
  const users = config.API_USERS.length > 0 ? `, API_USERS: ${config.API_USERS.map((u) => u.name).join(", ")}` : "";
  const readers = config.API_READERS.length > 0 ? `, API_READERS (read only): ${config.API_READERS.map((u) => u.name).join(", ")}` : "";
  const auth = config.API_TOKEN ? `API_TOKEN set${config.API_READ_TOKEN ? ", API_READ_TOKEN set" : ""}${users}${readers}` : `no API_TOKEN (loopback only; Host must be ${names}; other sites' pages may change nothing)`;
  if (!config.API_TOKEN && otherUsers.length > 0) {
    const shown = otherUsers.length > 5 ? `${otherUsers.slice(0, 5).join(", ")} and ${otherUsers.length - 5} more` : otherUsers.join(", ");
    if (peerUsersKnown()) return result("HTTP", "ok", `listens on ${where}; ${auth}; this machine's other login users (${shown}) are refused: each connection's user is checked`);
    return result("HTTP", "warn", `listens on ${where} without API_TOKEN, and this machine has other login users (${shown}): loopback is theirs too, and here a connection's user cannot be told, so any of them could run commands as this agent's user; set API_TOKEN`);
  }
  return result("HTTP", "ok", `listens on ${where}; ${auth}`);
}

async function checkRunning(config: Config): Promise<CheckResult> {
  try {
    const res = await fetch(`${config.PH_TASKS_URL}/healthz`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { workerId?: string; store?: string; uptimeSeconds?: number };
    return result("agent", "ok", `answers at ${config.PH_TASKS_URL}: worker ${body.workerId ?? "?"}, ${body.store ?? "?"} store, up ${body.uptimeSeconds ?? "?"} s`);
  } catch {
    return result("agent", "ok", `none answers at ${config.PH_TASKS_URL} (start one with npm start or ph-tasks serve)`);
  }
}

/**
 * On a shared PostgreSQL store: waiting approvals that name approvers this configuration no longer
 * knows (undecidable-approvals.ts), and the last 24 hours' spend against the daily budget. The
 * embedded store is not opened here (an agent may hold it): the agent tells of both itself.
 */
async function checkSharedStore(config: Config): Promise<CheckResult[]> {
  if (!config.DATABASE_URL) return [];
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const db: Queryable = { query: async <Row>(sql: string, params?: readonly unknown[]) => {
      const answer = await client.query(sql, params ? [...params] : undefined);
      return { rows: answer.rows as Row[], affectedRows: answer.rowCount ?? 0 };
    } };
    const stuck = describeUndecidable(await undecidableApprovals(db, knownPeople(config)));
    const spend = await checkSpend(db, config.TASK_BUDGET_USD_PER_DAY);
    const drives = await checkHolderSpend(db, DRIVE_HOLDER, config.TASK_BUDGET_USD_PER_DRIVE_PER_DAY, config.TASK_DRIVE_BUDGETS_USD_PER_DAY);
    // A store older than migration 047 has no person's budget set: the settings alone say whether any holds.
    const people = await checkHolderSpend(db, PERSON_HOLDER, config.TASK_BUDGET_USD_PER_PERSON_PER_DAY, config.TASK_PERSON_BUDGETS_USD_PER_DAY).catch(() => undefined);
    // A rolling upgrade's older workers hold to their settings: a budget set with ph-tasks budget does not reach them.
    // The workers blind to the daily budget (044) are blind to people's (047) too: the older gap is named first.
    const blindToDaily = await workersBlindTo(db, "daily");
    const which = blindToDaily.length > 0 ? "daily" : "people";
    const blind = blindToDaily.length > 0 ? blindToDaily : await workersBlindTo(db, "people");
    const budgets = blind.length > 0 ? result("budgets", "warn", `${describeBlindWorkers(blind, which)} (ph-tasks budget)`) : undefined;
    return [...(stuck ? [result("approvals", "warn", stuck)] : []), ...(spend ? [spend] : []), ...(drives ? [drives] : []), ...(people ? [people] : []), ...(budgets ? [budgets] : [])];
  } catch {
    return []; // unreachable (the store check says so) or not migrated yet: nothing to say
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The last 24 hours' spend against the daily budget (one set with ph-tasks budget daily, else TASK_BUDGET_USD_PER_DAY); nothing to say without either. */
async function checkSpend(db: Queryable, settingUsd: number | undefined): Promise<CheckResult | undefined> {
  // A store older than migration 044 has no budget set: the setting holds.
  const stored = await selectDailyBudget(db).catch(() => undefined);
  const budget = dailyBudgetOf(settingUsd, stored);
  const spend = await selectWindowSpend(db, BUDGET_WINDOW_MS, budget?.usd ?? null);
  const spent = `${dollars(spend.spentUsd)} in the last 24 hours`;
  if (budget === undefined) return spend.runs > 0 ? result("spend", "ok", `${spent} (no daily budget: ${stored ? storedSetting(stored) : DAILY_BUDGET_SETTING})`) : undefined;
  if (spend.freesInMs === null) return result("spend", "ok", `${spent} of a ${dollars(budget.usd)} daily budget (${dollars(Math.max(0, budget.usd - spend.spentUsd))} left; ${budget.setting})`);
  return result("spend", "warn", `the daily budget is spent: ${spent} of ${dollars(budget.usd)}; Claude tasks wait until ${new Date(Date.now() + spend.freesInMs).toISOString()} (${budget.setting})`);
}

/** How each holder's check speaks: its line's name, its settings, who has spent and whose tasks wait. */
const HOLDER_CHECKS = {
  drive: { check: "drive spend", settings: "TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_DRIVE_BUDGETS_USD_PER_DAY, ph-tasks budget", none: "no drive's writers have spent their daily budget", some: (n: number) => `${n} drive(s) have spent their daily budget, their writers' Claude tasks wait` },
  person: { check: "person spend", settings: "TASK_BUDGET_USD_PER_PERSON_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY, ph-tasks budget person", none: "no one has spent their daily budget", some: (n: number) => `${n} person(s) have spent their daily budget, the Claude tasks they ask for wait` },
} as const;

/** With budgets per drive (or per person): those who have spent theirs, and until when (of the ten that spent most). */
async function checkHolderSpend(db: Queryable, kind: BudgetHolder, budget: number | undefined, named: Readonly<Record<string, number>>): Promise<CheckResult | undefined> {
  if (budget === undefined && Object.keys(named).length === 0 && (await listHolderBudgets(db, kind.kind, undefined, 1)).length === 0) return undefined;
  const says = HOLDER_CHECKS[kind.kind];
  const top = await selectSpendGrouped(db, HOLDER_TABLES[kind.kind].costColumn, "holder", BUDGET_WINDOW_MS, 10);
  const budgets = await holderBudgetsOf(db, kind, { defaultUsd: budget, named }, top.flatMap((row) => (row.holder === null ? [] : [row.holder])));
  const spent = top.flatMap((row) => {
    const limit = row.holder === null ? undefined : budgets.get(row.holder)?.usd;
    return row.holder !== null && limit !== undefined && row.cost_usd >= limit ? [{ id: row.holder, usd: row.cost_usd, limit }] : [];
  });
  if (spent.length === 0) return result(says.check, "ok", `${says.none} (${says.settings})`);
  const told = await Promise.all(spent.map(async (row) => `${row.id} (${dollars(row.usd)} of ${dollars(row.limit)}, until ${(await holderResumesAt(db, kind, row.id, row.limit, row.usd)) ?? "now"})`));
  return result(says.check, "warn", `${says.some(spent.length)}: ${told.join(", ")} (${says.settings})`);
}

export async function runChecks(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<CheckResult[]> {
  let config: Config;
  const unknown = unknownVariables(env);
  const unknownNote = unknown.length > 0 ? describeUnknown(unknown) : undefined;
  try {
    config = loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.errors.map((e) => `${e.field}=${e.value ?? ""}: ${e.message}`);
    return [result("configuration", "fail", [...problems, ...(unknownNote ? [unknownNote] : [])].join("; "))];
  }
  return [
    unknownNote ? result("configuration", "warn", `every variable set is valid; ${unknownNote}`) : result("configuration", "ok", "every variable set is valid"),
    await checkStore(config),
    ...(await checkWorkers(config)),
    ...(await checkSharedStore(config)),
    ...(await checkTitleSearch(config)),
    checkRoots(config),
    checkCgroup(config),
    checkLimits(config),
    checkRunUser(config),
    await checkCommands(config, env.PATH ?? DEFAULT_PATH),
    await checkSecrets(config, env.PATH ?? DEFAULT_PATH),
    ...checkClaude(config),
    checkWriters(config),
    ...checkPersonBudgets(config),
    checkListen(config, otherLoginUsersHere()),
    await checkRunning(config),
  ];
}
