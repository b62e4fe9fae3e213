/**
 * `ph-tasks doctor` as a user runs it: every check named with ok / warn / fail, exit 1 when
 * something would stop the agent (a configuration it refuses, an unreachable PostgreSQL, no allowed
 * root, a public address without a token), a secret never echoed, and an agent that answers found.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";
import { LOCK_FILE, lockDataDir } from "../src/store/data-dir-lock.js";
import { TaskStore } from "../src/store/task-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import { SpendStore } from "../src/store/spend-store.js";
import { ApprovalExecutor } from "../src/tasks/executors/approval-executor.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { LATEST_MIGRATION } from "../src/store/migrate.js";
import { otherLoginUsers, otherLoginUsersHere } from "../src/doctor/other-users.js";
import { peerUsersKnown } from "../src/http/peer-user.js";
import { removeTestCgroupRoot, testCgroupRoot } from "./support/cgroup.js";
import { waitFor } from "./support/process.js";
import { testRunUser } from "./support/run-user.js";

const BIN = path.resolve("bin/ph-tasks.js");
const dir = mkdtempSync(path.join(tmpdir(), "ph-doctor-"));
// The doctor's working directory is its default allowed root: one a run user (nobody) may enter.
chmodSync(dir, 0o755);

/**
 * The doctor in `dir` with only these variables (and PATH, HOME): nothing of this machine's
 * environment leaks in. Asynchronous: the stand-in agent below answers from this process.
 */
async function doctor(env: Record<string, string>, args: string[] = []) {
  const run = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, "doctor", ...args], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "", HOME: dir, PH_TASKS_URL: "http://127.0.0.1:9", ...env } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? -1) : 0, stdout, stderr }));
  });
  return { ...run, line: (name: string) => run.stdout.split("\n").find((l) => l.slice(6).startsWith(name)) ?? "" };
}

/** A task store in a schema of its own on the PostgreSQL server, and the DATABASE_URL that points the doctor at it; removed after `fn`. */
async function onOwnSchema(fn: (store: TaskStore, url: string) => Promise<void>): Promise<void> {
  const schema = uniqueSchema("doctor");
  const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema });
  try {
    await fn(store, `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  } finally {
    await store.close();
    await dropSchema(schema);
  }
}

describe("ph-tasks doctor", () => {
  let agent: Server;
  let agentUrl: string;
  beforeAll(async () => {
    agent = createServer((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ status: "ok", workerId: "w-1", store: "postgres", uptimeSeconds: 42 })));
    await new Promise<void>((resolve) => agent.listen(0, "127.0.0.1", resolve));
    agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => agent.close(() => resolve()));
    removeTestCgroupRoot();
  });

  it("on a fresh machine: every check named, the missing API key a warning, exit 0", async () => {
    const run = await doctor({});
    expect(run.status).toBe(0);
    expect(run.stdout.split("\n").filter(Boolean).map((l) => l.slice(6, 20).trim())).toEqual(["configuration", "task store", "allowed roots", "run cgroups", "run limits", "run user", "commands", "secrets", "claude binary", "API key", "writers", "HTTP", "agent"]);
    expect(run.line("run cgroups")).toBe("ok    run cgroups     off (TASK_CGROUP_ROOT is not set): a task's process that clears its environment and leaves its group outlives the run");
    expect(run.line("run limits")).toBe("ok    run limits      none (TASK_LIMIT_* not set): a run's processes may use what the agent's user may; a task may set its own (limits)");
    expect(run.line("run user")).toBe(
      process.getuid?.() === 0
        ? "warn  run user        runs have root, as the agent does (TASK_RUN_AS_USER is not set): a task may read and change anything here, the agent's secrets included; set TASK_RUN_AS_USER to an unprivileged account"
        : "ok    run user        the agent's own (TASK_RUN_AS_USER is not set): a run may read what the agent may — its data directory, and through /proc the environment it started with",
    );
    expect(run.line("commands")).toBe("ok    commands        any program may run (TASK_COMMAND_ALLOWLIST is not set)");
    expect(run.line("task store")).toBe(`ok    task store      embedded PGlite in ${path.join(dir, ".ph-tasks")} (made at the first start, private to this user)`);
    expect(run.line("claude binary")).toMatch(/^ok {4}claude binary {3}\d+\.\d+\.\d+ \(Claude Code\)/);
    expect(run.line("API key")).toMatch(/^warn {2}API key .*ANTHROPIC_API_KEY is not set/);
    expect(run.line("writers")).toBe("ok    writers         no writer list: whoever can write the local drive starts tasks — through this agent's API and /mcp only");
    const remote = "https://switchboard.example.com/d/team";
    expect((await doctor({ REMOTE_DRIVE_URL: remote, TASK_ALLOW_ANY_WRITER: "true" })).line("writers")).toBe(`warn  writers         anyone who can write ${remote} starts tasks here (TASK_ALLOW_ANY_WRITER=true)`);
    expect((await doctor({ REMOTE_DRIVE_URL: remote, TASK_AUTHORIZED_WRITERS: `04${"11".repeat(64)}` })).line("writers")).toBe(`ok    writers         only operations signed by 1 listed app key start or cancel work in the local drive and ${remote}`);
    // Budgets per person for names no one is known by here hold no one: a warning naming them (none when all are known).
    const users = { API_TOKEN: "doctor-admin-token-0123456789", API_USERS: "alice=doctor-alice-token-0123456789" };
    expect((await doctor({ ...users, TASK_PERSON_BUDGETS_USD_PER_DAY: "alice=5,alcie=2" })).line("person budgets")).toBe("warn  person budgets  TASK_PERSON_BUDGETS_USD_PER_DAY names alcie, whom this agent does not know (API_USERS, TASK_AUTHORIZED_WRITERS): that budget holds no task here");
    expect((await doctor({ TASK_BUDGET_USD_PER_PERSON_PER_DAY: "5" })).line("person budgets")).toBe("warn  person budgets  TASK_BUDGET_USD_PER_PERSON_PER_DAY holds no one: no one is named here (API_USERS, TASK_AUTHORIZED_WRITERS), and tasks no one named asked for are not held by it");
    expect((await doctor({ ...users, TASK_BUDGET_USD_PER_PERSON_PER_DAY: "5", TASK_PERSON_BUDGETS_USD_PER_DAY: "alice=5" })).line("person budgets")).toBe("");
    const refused = await doctor({ REMOTE_DRIVE_URL: remote });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`fail  configuration   REMOTE_DRIVE_URL="${remote}": is set but TASK_AUTHORIZED_WRITERS is empty`);
    // This machine's own accounts decide (this development machine has one other login user).
    const others = otherLoginUsersHere();
    const base = "listens on 127.0.0.1:4000; no API_TOKEN (loopback only; Host must be a loopback name; other sites' pages may change nothing)";
    const named = `${others.slice(0, 5).join(", ")}${others.length > 5 ? ` and ${others.length - 5} more` : ""}`;
    expect(run.line("HTTP")).toBe(
      others.length === 0
        ? `ok    HTTP            ${base}`
        : peerUsersKnown()
          ? `ok    HTTP            ${base}; this machine's other login users (${named}) are refused: each connection's user is checked`
          : `warn  HTTP            listens on 127.0.0.1:4000 without API_TOKEN, and this machine has other login users (${named}): loopback is theirs too, and here a connection's user cannot be told, so any of them could run commands as this agent's user; set API_TOKEN`,
    );
    expect((await doctor({ API_TOKEN: "doctor-token-0123456789" })).line("HTTP")).toBe("ok    HTTP            listens on 127.0.0.1:4000; API_TOKEN set");
    expect(run.line("agent")).toBe("ok    agent           none answers at http://127.0.0.1:9 (start one with npm start or ph-tasks serve)");
  });

  it("finds the other login users of a machine in its passwd: a uid from 1000 with a login shell, not this one, not nobody", () => {
    const passwd = [
      "root:x:0:0:root:/root:/bin/bash",
      "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
      "alice:x:1000:1000:Alice:/home/alice:/bin/bash",
      "me:x:1001:1001::/home/me:/bin/zsh",
      "svc:x:1002:1002::/srv:/usr/sbin/nologin",
      "bob:x:1003:1003::/home/bob:/bin/sh",
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh",
      "",
    ].join("\n");
    expect(otherLoginUsers(passwd, 1001)).toEqual(["alice", "bob"]);
    expect(otherLoginUsers(passwd, 1000)).toEqual(["me", "bob"]);
  });

  it("checks each program of the command allow-list on the agent's PATH: a missing one warns, none found fails", async () => {
    expect((await doctor({ TASK_COMMAND_ALLOWLIST: "echo,/bin/ls" })).line("commands")).toBe("ok    commands        only echo, /bin/ls (each found); tasks may set no environment variable (TASK_ENV_ALLOWLIST)");
    // An entry with leading arguments is looked up by its program; the variables a task may set are named.
    expect((await doctor({ TASK_COMMAND_ALLOWLIST: "git status,git log,echo", TASK_ENV_ALLOWLIST: "MYAPP_*,TZ" })).line("commands")).toBe("ok    commands        only git status, git log, echo (each found); tasks may set MYAPP_*, TZ (TASK_ENV_ALLOWLIST)");
    expect((await doctor({ TASK_COMMAND_ALLOWLIST: "nope status,echo" })).line("commands")).toMatch(/^warn {2}commands +not found on the agent's PATH or not executable: nope \(/);
    const some = await doctor({ TASK_COMMAND_ALLOWLIST: "echo,no-such-program,/bin/no-such" });
    expect(some.status).toBe(0);
    expect(some.line("commands")).toBe("warn  commands        not found on the agent's PATH or not executable: no-such-program, /bin/no-such (TASK_COMMAND_ALLOWLIST): tasks naming them fail");
    // An entry that lets a task run anything is a warning naming it (the agent still starts).
    const shell = await doctor({ TASK_COMMAND_ALLOWLIST: "echo,sh" });
    expect(shell.status).toBe(0);
    expect(shell.line("commands")).toMatch(/^warn {2}commands +TASK_COMMAND_ALLOWLIST lets a task run anything through 'sh' \(-c runs any shell code\): pin the arguments/);
    expect((await doctor({ TASK_COMMAND_ALLOWLIST: "echo,sh ./build.sh" })).line("commands")).toMatch(/^ok {4}commands +only echo, sh \.\/build\.sh/);
    const none = await doctor({ TASK_COMMAND_ALLOWLIST: "no-such-program" });
    expect(none.status).toBe(1);
    expect(none.line("commands")).toMatch(/^fail {2}commands +not found .*no-such-program/);
  });

  it("finds an agent that answers, and says so in JSON too", async () => {
    // As root (CI), runs need a user of their own for every check to be ok.
    const run = await doctor({ PH_TASKS_URL: agentUrl, ANTHROPIC_API_KEY: "sk-test", API_TOKEN: "doctor-token-0123456789", ...(testRunUser ? { TASK_RUN_AS_USER: "nobody" } : {}) }, ["--json"]);
    expect(run.status).toBe(0);
    const checks = JSON.parse(run.stdout) as { name: string; level: string; detail: string }[];
    expect(checks.find((c) => c.name === "agent")).toEqual({ name: "agent", level: "ok", detail: `answers at ${agentUrl}: worker w-1, postgres store, up 42 s` });
    expect(checks.every((c) => c.level === "ok")).toBe(true);
  });

  it("names variables that look like settings but are none (a typo would leave the default in force), with the closest setting", async () => {
    const run = await doctor({ TASK_MAX_CONCURENT: "5", PH_TASKS_ULR: "http://127.0.0.1:9", TASK_SOMETHING_ELSE: "1" });
    expect(run.status).toBe(0); // a warning: the agent starts, with the defaults
    expect(run.line("configuration")).toBe(
      "warn  configuration   every variable set is valid; not a setting of this agent, ignored: PH_TASKS_ULR (did you mean PH_TASKS_URL?), TASK_MAX_CONCURENT (did you mean TASK_MAX_CONCURRENT?), TASK_SOMETHING_ELSE",
    );
    // Beside a refused one, both are said.
    const both = await doctor({ API_TOKEN: "short-secret", TASK_RETRY_ATEMPTS: "5" });
    expect(both.status).toBe(1);
    expect(both.stdout).toBe("fail  configuration   API_TOKEN=(hidden): must be at least 16 characters; not a setting of this agent, ignored: TASK_RETRY_ATEMPTS (did you mean TASK_RETRY_ATTEMPTS?)\n");
  });

  it("exit 1 for what would stop the agent or every CLI task: a refused configuration (its secret not echoed), no allowed root, a public address without a token", async () => {
    const bad = await doctor({ API_TOKEN: "short-secret" });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("fail  configuration   API_TOKEN=(hidden): must be at least 16 characters\n");
    const rooted = await doctor({ TASK_ALLOWED_ROOTS: path.join(dir, "no-such-dir"), HOST: "0.0.0.0" });
    expect(rooted.status).toBe(1);
    expect(rooted.line("allowed roots")).toBe(`fail  allowed roots   not a directory: ${path.join(dir, "no-such-dir")} (TASK_ALLOWED_ROOTS): CLI tasks there are refused`);
    expect(rooted.line("HTTP")).toMatch(/^fail {2}HTTP {12}0\.0\.0\.0:4000 is not loopback and API_TOKEN is not set/);
    const someRoots = await doctor({ TASK_ALLOWED_ROOTS: `${dir},${path.join(dir, "gone")}` });
    expect(someRoots.status).toBe(0);
    expect(someRoots.line("allowed roots")).toMatch(/^warn /);
    const cgroup = await doctor({ TASK_CGROUP_ROOT: dir });
    expect(cgroup.status).toBe(1);
    expect(cgroup.line("run cgroups")).toBe(`fail  run cgroups     TASK_CGROUP_ROOT=${dir} is not a cgroup v2 directory (no cgroup.procs and cgroup.events in it; cgroup v2 is mounted at /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems): the agent will not start`);
  });

  it("TASK_LIMIT_* named when set; a memory limit claude cannot start under is a warning; no prlimit on the PATH stops the agent (exit 1)", async () => {
    const set = await doctor({ TASK_LIMIT_CPU_SECONDS: "60", TASK_LIMIT_MEMORY_MB: "2048", TASK_LIMIT_FILE_SIZE_MB: "100" });
    expect(set.line("run limits")).toBe("ok    run limits      each process of a run: CPU time 60 s, memory 2048 MB, file size 100 MB");
    const low = await doctor({ TASK_LIMIT_MEMORY_MB: "512" });
    expect(low.status).toBe(0);
    expect(low.line("run limits")).toBe("warn  run limits      the run's memory limit of 512 MB (limits.memoryMb, TASK_LIMIT_MEMORY_MB) is below the 1024 MB a claude run needs: claude-code and claude-agent tasks are refused");
    const missing = await doctor({ TASK_LIMIT_OPEN_FILES: "1024", PATH: path.join(dir, "empty-bin") });
    expect(missing.status).toBe(1);
    expect(missing.line("run limits")).toBe("fail  run limits      TASK_LIMIT_OPEN_FILES=1024 cannot be applied: prlimit (util-linux), which sets a run's limits, is not on the agent's PATH; install it (Debian: util-linux) or unset the TASK_LIMIT_* variables: the agent will not start");
  });

  it.skipIf(!testRunUser)("TASK_RUN_AS_USER named with its uid when usable; root or no such user stops the agent (exit 1)", async () => {
    const ok = await doctor({ TASK_RUN_AS_USER: "nobody" });
    expect(ok.line("run user")).toBe(`ok    run user        runs have uid ${testRunUser?.uid ?? ""} (nobody), gid ${testRunUser?.gid ?? ""}, no supplementary groups, no new privileges`);
    const rootUser = await doctor({ TASK_RUN_AS_USER: "root" });
    expect(rootUser.status).toBe(1);
    expect(rootUser.line("run user")).toMatch(/^fail {2}run user {8}TASK_RUN_AS_USER=root is root \(uid or gid 0\).*: the agent will not start$/);
    // A root the account may not enter (mkdtemp makes 0700 directories of root's).
    const closed = mkdtempSync(path.join(tmpdir(), "ph-doctor-closed-"));
    const blocked = await doctor({ TASK_RUN_AS_USER: "nobody", TASK_ALLOWED_ROOTS: closed });
    expect(blocked.status).toBe(0);
    expect(blocked.line("run user")).toBe(`warn  run user        runs have uid ${testRunUser?.uid ?? ""} (nobody), gid ${testRunUser?.gid ?? ""}, which cannot enter ${closed} (TASK_ALLOWED_ROOTS): its tasks there fail`);
    const missing = await doctor({ TASK_RUN_AS_USER: "no-such-user-xyz" });
    expect(missing.line("run user")).toBe("fail  run user        TASK_RUN_AS_USER=no-such-user-xyz is not a user of this machine (getent passwd finds no such name or uid): the agent will not start");
  });

  it("TASK_SECRETS named with their variables and commands; a program not on the PATH, or one that runs anything, is a warning; the values never shown", async () => {
    const value = "doctor-secret-value-123456";
    const ok = await doctor({ TASK_SECRETS: JSON.stringify({ deploy: { value, variable: "DEPLOY_TOKEN", commands: ["true", "/bin/echo hello"] } }) });
    expect(ok.line("secrets")).toBe('ok    secrets         "deploy" in DEPLOY_TOKEN for true, /bin/echo hello');
    const warned = await doctor({ TASK_SECRETS: JSON.stringify({ deploy: { value, variable: "DEPLOY_TOKEN", commands: ["no-such-deployer"] }, shell: { value, variable: "T", commands: ["sh"] } }) });
    expect(warned.status).toBe(0);
    expect(warned.line("secrets")).toMatch(/^warn {2}secrets {9}not found on the agent's PATH or not executable: "deploy": no-such-deployer: tasks naming them fail; and TASK_SECRETS gives secrets to commands that run anything: "shell" for 'sh'/);
    expect(ok.stdout + warned.stdout + ok.stderr + warned.stderr).not.toContain(value);
  });

  it.skipIf(!testCgroupRoot)("a usable TASK_CGROUP_ROOT is named; what a dead agent's runs left going there is a warning", async () => {
    const root = testCgroupRoot ?? "";
    const run = await doctor({ TASK_CGROUP_ROOT: root });
    expect(run.line("run cgroups")).toBe(`ok    run cgroups     each run in a cgroup of its own under ${root}`);
    // A run of an agent that is gone (this pid, but not started then), its process still going.
    const leftover = path.join(root, `agent-${process.pid}-1`, "ph-run-x");
    mkdirSync(leftover, { recursive: true });
    const sleeper = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    try {
      writeFileSync(path.join(leftover, "cgroup.procs"), String(sleeper.pid));
      const warned = await doctor({ TASK_CGROUP_ROOT: root });
      expect(warned.status).toBe(0);
      expect(warned.line("run cgroups")).toBe(`warn  run cgroups     1 process(es) of runs of 1 dead agent(s) still going under ${root} (agent-${process.pid}-1): an agent starting here ends them`);
    } finally {
      sleeper.kill("SIGKILL");
      await waitFor(() => !existsSync(`/proc/${sleeper.pid}`) || readFileSync(path.join(leftover, "cgroup.procs"), "utf8") === "" || undefined, 5000, "the sleeper to end");
      rmdirSync(leftover);
      rmdirSync(path.dirname(leftover));
    }
  });

  it("an embedded store's directory other users may enter is a warning (the agent makes it private)", async () => {
    const data = path.join(dir, "open-data");
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const run = await doctor({ TASK_DATA_DIR: data });
    expect(run.status).toBe(0);
    expect(run.line("task store")).toBe(`warn  task store      embedded PGlite in ${data}: other users may enter it (mode 0755) and read or change the task store; the agent makes it 0700 at its next start`);
    chmodSync(data, 0o700);
    expect((await doctor({ TASK_DATA_DIR: data })).line("task store")).toBe(`ok    task store      embedded PGlite in ${data} (private to this user)`);
    // Held by a live process (here this one): said so, who and since when; let go, no longer.
    const lock = lockDataDir(data, "ph-tasks serve");
    const since = (JSON.parse(readFileSync(path.join(data, LOCK_FILE), "utf8")) as { since: string }).since;
    expect((await doctor({ TASK_DATA_DIR: data })).line("task store")).toBe(`ok    task store      embedded PGlite in ${data} (private to this user); held by ph-tasks serve (pid ${process.pid}, since ${since}): another agent or a store copy on it is refused while it runs`);
    lock.release();
    expect((await doctor({ TASK_DATA_DIR: data })).line("task store")).toBe(`ok    task store      embedded PGlite in ${data} (private to this user)`);
  });

  it("an unreachable PostgreSQL is a failure naming it", async () => {
    const run = await doctor({ DATABASE_URL: "postgres://postgres@127.0.0.1:9/test" });
    expect(run.status).toBe(1);
    expect(run.line("task store")).toMatch(/^fail {2}task store {6}PostgreSQL at 127\.0\.0\.1:9\/test: cannot connect \(.*ECONNREFUSED/);
  });

  it.skipIf(!postgresAvailable)("a reachable PostgreSQL: ok, with its schema's state", async () => {
    const run = await doctor({ DATABASE_URL: TEST_DATABASE_URL });
    expect(run.status).toBe(0);
    expect(run.line("task store")).toMatch(/^ok {4}task store {6}PostgreSQL at .*: reachable/);
  });

  it.skipIf(!postgresAvailable)("a store a newer agent migrated: a warning while it admits this agent, a failure once it does not", async () => {
    await onOwnSchema(async (store, url) => {
      await store.db.query("INSERT INTO ph_tasks_migrations (version, name) VALUES ($1, 'from a newer agent')", [LATEST_MIGRATION + 1]);
      const newer = await doctor({ DATABASE_URL: url });
      expect(newer.status).toBe(0);
      expect(newer.line("task store")).toMatch(new RegExp(`^warn  task store      PostgreSQL at .*: the task store's schema \\(version ${LATEST_MIGRATION + 1}\\) is newer than this agent's \\(${LATEST_MIGRATION}\\); it admits agents from version 28`));
      await store.db.query("UPDATE ph_tasks_schema SET oldest_agent_schema = $1", [LATEST_MIGRATION + 1]);
      const refused = await doctor({ DATABASE_URL: url });
      expect(refused.status).toBe(1);
      expect(refused.line("task store")).toMatch(new RegExp(`^fail  task store      PostgreSQL at .*: the task store's schema \\(version ${LATEST_MIGRATION + 1}\\) needs agents that know version ${LATEST_MIGRATION + 1} or later; this agent knows ${LATEST_MIGRATION}: update it$`));
    });
  });

  it.skipIf(!postgresAvailable)("on PostgreSQL, waiting approvals that no one the configuration knows could decide are a warning naming them", async () => {
    await onOwnSchema(async (store, url) => {
      // Asked for when zed was known (stored as the agent stores them), then zed's token went.
      const manager = testManager(store, {}, cliRegistry().register(new ApprovalExecutor()));
      const zeds = (await manager.enqueueTask({ type: "approval", title: "zed's call", approvers: ["zed"] })).task.id;
      await manager.enqueueTask({ type: "approval", title: "alice's call", approvers: ["alice", "zed"] });
      const two = (await manager.enqueueTask({ type: "approval", title: "two of us", approvers: ["alice", "zed"], required: 2 })).task.id;
      const env = { DATABASE_URL: url, API_TOKEN: "doctor-admin-token-0123", API_USERS: "alice=doctor-alice-token-0123" };
      const run = await doctor(env);
      expect(run.status).toBe(0);
      expect(run.line("approvals")).toBe(`warn  approvals       2 approvals no one this agent knows can decide: ${zeds} "zed's call" (waits for zed), ${two} "two of us" (waits for zed) — name them again in API_USERS / TASK_AUTHORIZED_WRITERS, or cancel and ask anew`);
      await manager.cancelTask(zeds);
      await manager.cancelTask(two);
      expect((await doctor(env)).line("approvals")).toBe(""); // nothing to say: no line
    });
  });

  it.skipIf(!postgresAvailable)("on PostgreSQL, the last 24 hours' spend against the daily budget, and the drives against theirs; spent, a warning saying until when", async () => {
    await onOwnSchema(async (store, url) => {
      const env = { DATABASE_URL: url };
      expect((await doctor(env)).line("spend")).toBe(""); // nothing spent, no budget: nothing to say
      const cost = (id: string, usd: number, hoursAgo: number) => store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, cost_usd, recorded_at, worker_id) VALUES ($1, 1, 'claude-code', $2, now() - make_interval(hours => $3), 'w')", [id, usd, hoursAgo]);
      await cost("a", 1.25, 3);
      expect((await doctor(env)).line("spend")).toBe("ok    spend           $1.25 in the last 24 hours (no daily budget: TASK_BUDGET_USD_PER_DAY)");
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_DAY: "5" })).line("spend")).toBe("ok    spend           $1.25 in the last 24 hours of a $5.00 daily budget ($3.75 left; TASK_BUDGET_USD_PER_DAY)");
      // One set while the agents run (ph-tasks budget daily set) wins over the setting, and is seen without it; none set so says by whom.
      await new SpendStore(store.db).setDailyBudget(2, "", "alice");
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_DAY: "5" })).line("spend")).toBe("ok    spend           $1.25 in the last 24 hours of a $2.00 daily budget ($0.75 left; set by alice (ph-tasks budget))");
      expect((await doctor(env)).line("spend")).toMatch(/of a \$2\.00 daily budget/);
      await new SpendStore(store.db).setDailyBudget(null, "", "bob");
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_DAY: "5" })).line("spend")).toBe("ok    spend           $1.25 in the last 24 hours (no daily budget: set by bob (ph-tasks budget))");
      await new SpendStore(store.db).removeDailyBudget();
      // A rolling upgrade's older worker, heard from now: budgets set with ph-tasks budget do not reach it.
      expect((await doctor(env)).line("budgets")).toBe("");
      await store.db.query(`INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, schema_version, last_seen_at)
                            VALUES ('w-041', 'old-host', 42, '0.9.0', 'running', 2, 0, 600000, '{cli}', now(), 41, now())`);
      expect((await doctor(env)).line("budgets")).toBe("warn  budgets         worker w-041 on old-host (agent 0.9.0) does not read the daily budget set while the agents run: it holds to its settings until upgraded (ph-tasks budget)");
      await store.db.query("DELETE FROM ph_workers WHERE worker_id = 'w-041'");
      // One between (046): it reads the daily budget set, not people's.
      await store.db.query(`INSERT INTO ph_workers (worker_id, host, pid, version, state, max_concurrent, prefetch, lease_ms, types, started_at, schema_version, last_seen_at)
                            VALUES ('w-046', 'mid-host', 43, '0.29.0', 'running', 2, 0, 600000, '{cli}', now(), 46, now())`);
      expect((await doctor(env)).line("budgets")).toBe("warn  budgets         worker w-046 on mid-host (agent 0.29.0) does not read budgets per person set while the agents run: it holds to its settings until upgraded (ph-tasks budget)");
      await store.db.query("DELETE FROM ph_workers WHERE worker_id = 'w-046'");
      await cost("b", 4, 1);
      const spent = await doctor({ ...env, TASK_BUDGET_USD_PER_DAY: "5" });
      expect(spent.status).toBe(0); // a warning: the agent runs
      expect(spent.line("spend")).toMatch(/^warn {2}spend {11}the daily budget is spent: \$5\.25 in the last 24 hours of \$5\.00; Claude tasks wait until (\S+) \(TASK_BUDGET_USD_PER_DAY\)$/);
      // When the $1.25 of 3 hours ago leaves the window: in 21 hours.
      const until = Date.parse(/until (\S+) /.exec(spent.line("spend"))?.[1] ?? "");
      expect(Math.abs(until - (Date.now() + 21 * 3_600_000))).toBeLessThan(120_000);

      // A budget per drive: the drives whose writers spent theirs, and until when.
      expect((await doctor(env)).line("drive spend")).toBe(""); // no budget per drive: nothing to say
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "2" })).line("drive spend")).toMatch(/^ok {4}drive spend +no drive's writers have spent their daily budget \(TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_DRIVE_BUDGETS_USD_PER_DAY, ph-tasks budget\)$/);
      await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, drive_id, writers_drive, cost_usd, recorded_at, worker_id) VALUES ('c', 1, 'claude-code', 'team', 'team', 2.5, now() - interval '2 hours', 'w')");
      const drives = (await doctor({ ...env, TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "2" })).line("drive spend");
      expect(drives).toMatch(/^warn {2}drive spend +1 drive\(s\) have spent their daily budget, their writers' Claude tasks wait: team \(\$2\.50 of \$2\.00, until (\S+)\) \(TASK_BUDGET_USD_PER_DRIVE_PER_DAY, TASK_DRIVE_BUDGETS_USD_PER_DAY, ph-tasks budget\)$/);
      const driveUntil = Date.parse(/until (\S+)\)/.exec(drives)?.[1] ?? "");
      expect(Math.abs(driveUntil - (Date.now() + 22 * 3_600_000))).toBeLessThan(120_000);
      // A drive named with a budget of its own: team's $3 has room; without a default, only the named drives are held.
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "2", TASK_DRIVE_BUDGETS_USD_PER_DAY: "team=3" })).line("drive spend")).toMatch(/^ok {4}drive spend +no drive's writers/);
      expect((await doctor({ ...env, TASK_DRIVE_BUDGETS_USD_PER_DAY: "team=1.5, other=9" })).line("drive spend")).toMatch(/^warn {2}drive spend +1 drive\(s\) .* team \(\$2\.50 of \$1\.50, until /);
      // A budget set while the agents run (ph-tasks budget set) wins over the settings, and is seen without any.
      await new SpendStore(store.db).setHolderBudget({ kind: "drive", id: "team" }, 2.25, "", "alice");
      expect((await doctor(env)).line("drive spend")).toMatch(/^warn {2}drive spend +1 drive\(s\) .* team \(\$2\.50 of \$2\.25, until /);
      await new SpendStore(store.db).setHolderBudget({ kind: "drive", id: "team" }, null, "trusted", "alice");
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_DRIVE_PER_DAY: "2" })).line("drive spend")).toMatch(/^ok {4}drive spend +no drive's writers/);

      // A budget per person likewise: those who spent theirs (alice, $1.10 of her dollar), a named one's own, one set while the agents run.
      expect((await doctor(env)).line("person spend")).toBe("");
      await store.db.query("INSERT INTO ph_run_costs (task_id, attempt, task_type, asked_by, cost_usd, recorded_at, worker_id) VALUES ('p', 1, 'claude-code', 'alice', 1.1, now() - interval '1 hour', 'w')");
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_PERSON_PER_DAY: "1" })).line("person spend")).toMatch(/^warn {2}person spend +1 person\(s\) have spent their daily budget, the Claude tasks they ask for wait: alice \(\$1\.10 of \$1\.00, until 20\S+\) \(TASK_BUDGET_USD_PER_PERSON_PER_DAY, TASK_PERSON_BUDGETS_USD_PER_DAY, ph-tasks budget person\)$/);
      expect((await doctor({ ...env, TASK_BUDGET_USD_PER_PERSON_PER_DAY: "1", TASK_PERSON_BUDGETS_USD_PER_DAY: "alice=5" })).line("person spend")).toMatch(/^ok {4}person spend +no one has spent their daily budget/);
      await new SpendStore(store.db).setHolderBudget({ kind: "person", id: "alice" }, 0.5, "", "bob");
      expect((await doctor(env)).line("person spend")).toMatch(/alice \(\$1\.10 of \$0\.50, until /);
    });
  });

  it.skipIf(!postgresAvailable)("on PostgreSQL, a lost worker, or a live one of an older schema, is a warning naming it", async () => {
    await onOwnSchema(async (store, url) => {
      const beat = { host: "h", pid: 1, version: "0.1.0", state: "running" as const, maxConcurrent: 1, prefetch: 0, leaseMs: 1000, types: ["cli"], startedAt: new Date(), schemaVersion: LATEST_MIGRATION };
      await new WorkerStore(store.db).beat({ ...beat, workerId: "w-alive", leaseMs: 600_000 });
      await new WorkerStore(store.db).beat({ ...beat, workerId: "w-gone" });
      await store.db.query("UPDATE ph_workers SET last_seen_at = now() - interval '5 minutes' WHERE worker_id = 'w-gone'");
      // The agent's own store is the URL's default schema; `options` points the doctor at this one.
      const run = await doctor({ DATABASE_URL: url });
      expect(run.status).toBe(0);
      expect(run.line("workers")).toMatch(/^warn {2}workers {9}1 running; lost: w-gone \(last seen .*\) — killed or cut off/);
      expect(run.line("title search")).toBe("ok    title search    through a trigram index (pg_trgm)");
      await new WorkerStore(store.db).remove("w-gone");
      expect((await doctor({ DATABASE_URL: url })).line("workers")).toMatch(/^ok {4}workers {9}1 running$/);
      // A live worker whose code knows an older schema: it runs, without what later migrations added.
      await new WorkerStore(store.db).beat({ ...beat, workerId: "w-old", leaseMs: 600_000, schemaVersion: LATEST_MIGRATION - 1 });
      expect((await doctor({ DATABASE_URL: url })).line("workers")).toBe(
        `warn  workers         2 running; older: w-old (schema ${LATEST_MIGRATION - 1}), the store is at ${LATEST_MIGRATION} — what later versions added (e.g. 30: timestamped-only hooks, hook rate limits, a rotated secret's grace period) is not applied by it; upgrade it`,
      );
    });
  });
});
