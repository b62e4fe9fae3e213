/**
 * Runs as another user (TASK_RUN_AS_USER): real processes of a real unprivileged account (nobody)
 * started by this root test process — what they are (uid, groups, HOME, no new privileges), what
 * they cannot do (read the agent's environment or its private files, regain root through a setuid
 * program, raise the run's hard limits, leave the run's cgroup), and a real agent's task run so.
 * Needs root (CI runs as root); elsewhere it says so, and with REQUIRE_TEST_SERVICES=1 that fails.
 */
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { createLogger, silentLogger } from "../src/logger.js";
import { CliExecutor, type CliExecutorOptions } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { openRunUser, resolveRunUser, runAsProblem, type RunUser } from "../src/tasks/executors/run-as-user.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { removeTestCgroupRoot, runCgroupsLeft, testCgroupRoot } from "./support/cgroup.js";
import { processAlive, readPid, waitFor } from "./support/process.js";
import { runUserProblem, testRunUser } from "./support/run-user.js";

const problem = runUserProblem;

// A directory nobody may enter and write (mkdtemp makes 0700 directories of root's).
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-runas-")));
chmodSync(root, 0o777);

describe("runs as another user", () => {
  it("is tested here: root, a user nobody, setpriv (or REQUIRE_TEST_SERVICES is not set)", () => {
    if (process.env.REQUIRE_TEST_SERVICES === "1") expect(problem).toBeUndefined();
  });

  it("refuses what cannot be a run's user, naming TASK_RUN_AS_USER: no such user, root, an agent that is not root", () => {
    expect(resolveRunUser("no-such-user-xyz")).toEqual({ problem: "is not a user of this machine (getent passwd finds no such name or uid)" });
    expect(resolveRunUser("root")).toEqual({ problem: expect.stringContaining("is root (uid or gid 0)") });
    expect(runAsProblem(1000)).toBe("needs an agent running as root to switch to it (this one runs as uid 1000); or run the agent itself as the account tasks should have");
    expect(() => openRunUser("root")).toThrow(ConfigError);
    try {
      openRunUser("no-such-user-xyz");
    } catch (error) {
      expect((error as ConfigError).errors).toEqual([{ field: "TASK_RUN_AS_USER", value: "no-such-user-xyz", message: "is not a user of this machine (getent passwd finds no such name or uid)" }]);
    }
  });
});

describe.skipIf(problem !== undefined)("runs as another user (nobody), real processes", () => {
  const user = testRunUser as RunUser;
  afterAll(() => removeTestCgroupRoot());

  async function run(fields: Record<string, unknown>, overrides: Partial<CliExecutorOptions> = {}) {
    const exec = new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, user, ...overrides });
    const request = parseTaskRequest({ type: "cli", title: "t", workingDirectory: root, ...fields }, new ExecutorRegistry().register(exec));
    if (!request.ok) throw new Error(JSON.stringify(request.errors));
    const task = newTask(request.value, exec, { maxAttempts: 1, timeoutMs: 30_000 });
    const outcome = await executeAttempt(exec, task, { timeoutMs: task.timeoutMs, attempt: 1, logger: silentLogger() });
    return { outcome, result: (outcome.result ?? {}) as Record<string, unknown> };
  }

  it("every process of the run is that user's: its uid and gid, no other groups, its HOME, no new privileges", async () => {
    const { outcome, result } = await run({ command: "/bin/sh", args: ["-c", 'id; echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME"; grep NoNewPrivs /proc/self/status; sh -c "id -u"'] });
    expect(outcome.status).toBe("completed");
    expect(result.runAs).toBe("nobody");
    expect(result.stdout).toBe(`uid=${user.uid}(nobody) gid=${user.gid}(${execFileSync("id", ["-gn", "nobody"], { encoding: "utf8" }).trim()}) groups=${user.gid}(${execFileSync("id", ["-gn", "nobody"], { encoding: "utf8" }).trim()})\nHOME=${user.home} USER=nobody LOGNAME=nobody\nNoNewPrivs:\t1\n${user.uid}\n`);
    // A task's own HOME stays.
    expect((await run({ command: "/bin/sh", args: ["-c", "echo $HOME"], environment: { HOME: root } })).result.stdout).toBe(`${root}\n`);
  });

  it("cannot read the agent's environment (/proc) nor its private files; without it, it could", async () => {
    const secretDir = mkdtempSync(path.join(tmpdir(), "ph-runas-private-"));
    writeFileSync(path.join(secretDir, "store.db"), "AGENT-PRIVATE-DATA\n");
    const peek = ["-c", `cat /proc/${process.pid}/environ >/dev/null && echo environ-read; cat ${secretDir}/store.db`];
    const as = await run({ command: "/bin/sh", args: peek });
    expect(as.result.stdout).toBe("");
    expect(as.result.stderr).toContain(`/proc/${process.pid}/environ: Permission denied`);
    expect(as.result.stderr).toContain("Permission denied");
    const same = await run({ command: "/bin/sh", args: peek }, { user: undefined });
    expect(same.result.stdout).toBe("environ-read\nAGENT-PRIVATE-DATA\n");
  });

  it("a setuid-root program gives no root back (no new privileges)", async () => {
    const bin = mkdtempSync(path.join(tmpdir(), "ph-runas-suid-"));
    chmodSync(bin, 0o755);
    const suidId = path.join(bin, "id-suid");
    copyFileSync("/usr/bin/id", suidId);
    chmodSync(suidId, 0o4755);
    const { result } = await run({ command: suidId, args: ["-u"] });
    expect(result.stdout).toBe(`${user.uid}\n`);
  });

  it("cannot raise the run's hard limits, which prlimit set as root before the switch", async () => {
    const { result } = await run({ command: "/bin/sh", args: ["-c", "ulimit -H -t; ulimit -t unlimited && echo raised"], limits: { cpuSeconds: 30 } }, { limits: { cpuSeconds: 60 } });
    expect(result.stdout).toBe("32\n");
    expect(result.stderr).toContain("Operation not permitted");
  });

  it.skipIf(!testCgroupRoot)("with a cgroup per run: cannot move itself out of it; a process it leaves behind in a session of its own ends with the run", async () => {
    const pidFile = path.join(root, "escapee.pid");
    const script = `echo $$ > ${testCgroupRoot ?? ""}/cgroup.procs && echo moved; (env -i setsid sh -c 'echo $$ > ${pidFile}; exec sleep 300' >/dev/null 2>&1 </dev/null &); while [ ! -s ${pidFile} ]; do sleep 0.05; done; echo left`;
    const { outcome, result } = await run({ command: "/bin/sh", args: ["-c", script] }, { cgroupRoot: testCgroupRoot ?? "" });
    const escapee = readPid(pidFile);
    expect(outcome.status).toBe("completed");
    expect(result.stdout).toBe("left\n");
    expect(result.stderr).toContain("Permission denied");
    expect(escapee).toBeTypeOf("number");
    expect(processAlive(escapee ?? 0)).toBe(false);
    expect(runCgroupsLeft()).toEqual([]);
  });

  it("a program the user may not run fails as the program's exit, and a missing one is still command_not_found", async () => {
    const privateBin = mkdtempSync(path.join(tmpdir(), "ph-runas-bin-"));
    const script = path.join(privateBin, "tool.sh");
    writeFileSync(script, "#!/bin/sh\necho ran\n");
    chmodSync(script, 0o755);
    const denied = await run({ command: script });
    expect(denied.outcome.status).toBe("failed");
    expect(denied.result.stdout).toBe("");
    expect(denied.result.stderr).toContain("Permission denied");
    expect((await run({ command: "no-such-program-xyz" })).outcome).toMatchObject({ status: "failed", error: { code: "command_not_found" } });
  });
});

describe.skipIf(problem !== undefined)("a real agent with TASK_RUN_AS_USER=nobody", () => {
  let agent: Agent;
  const dataDir = mkdtempSync(path.join(tmpdir(), "ph-runas-agent-"));
  beforeAll(async () => {
    agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: root, TASK_RUN_AS_USER: "nobody" }, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("runs a task as nobody, which cannot read the agent's data directory", async () => {
    const response = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "who", command: "/bin/sh", args: ["-c", `id -un; ls ${dataDir}`] }) });
    expect(response.status).toBe(201);
    const { task } = (await response.json()) as { task: { id: string } };
    const done = await waitFor(async () => {
      const t = ((await (await fetch(`${agent.url}/api/tasks/${task.id}`)).json()) as { task: { status: string; result?: { stdout?: string; stderr?: string } } }).task;
      return t.status === "completed" || t.status === "failed" ? t : undefined;
    }, 20_000, "the task to end");
    expect(done.result?.stdout).toBe("nobody\n");
    expect(done.result?.stderr).toContain("Permission denied");
    // Asynchronous: the agent answers from this process.
    const show = await new Promise<string>((resolve) => execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "show", task.id], { encoding: "utf8", env: { ...process.env, PH_TASKS_URL: agent.url } }, (_error, stdout) => resolve(stdout)));
    expect(show).toContain("ran as:    nobody (TASK_RUN_AS_USER)");
  });

  it("warns at start when the account cannot enter an allowed root, naming it", async () => {
    const closed = mkdtempSync(path.join(tmpdir(), "ph-runas-closed-"));
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(line) } });
    const warnedDir = mkdtempSync(path.join(tmpdir(), "ph-runas-warned-"));
    const other = await startAgent(loadConfig({ TASK_DATA_DIR: warnedDir, PORT: "0", TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: `${root},${closed}`, TASK_RUN_AS_USER: "nobody" }, warnedDir), { logger, rules: [] });
    try {
      const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toContain(`the runs' account nobody cannot enter ${closed} (TASK_ALLOWED_ROOTS): its tasks there fail`);
    } finally {
      await other.stop();
    }
  });

  it("refuses to start with a run user that cannot be (root): nothing started", async () => {
    const badDir = mkdtempSync(path.join(tmpdir(), "ph-runas-bad-"));
    await expect(startAgent(loadConfig({ TASK_DATA_DIR: badDir, PORT: "0", LOG_LEVEL: "silent", TASK_RUN_AS_USER: "root" }, badDir), { logger: silentLogger(), rules: [] })).rejects.toThrow(/TASK_RUN_AS_USER: is root/);
  });
});
