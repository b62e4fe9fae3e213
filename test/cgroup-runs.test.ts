/**
 * TASK_CGROUP_ROOT: each run in a cgroup of its own, so that a process which clears its environment
 * and leaves its group — which the process group and the run's tag both miss — still ends with the
 * run. Real processes in a real cgroup v2 hierarchy (root on Linux; see support/cgroup.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startAgent } from "../src/agent.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import { agentCgroupName, reapDeadAgents } from "../src/tasks/executors/agent-cgroup.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ClaudeAgentProcess } from "../src/tasks/executors/claude/agent-process.js";
import { TaskAbortReason } from "../src/tasks/executors/executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { AgentProcess, freshFetch } from "./support/agent-process.js";
import { cgroupProblem, removeTestCgroupRoot, runCgroupsLeft, testCgroupRoot } from "./support/cgroup.js";
import { testManager } from "./support/manager.js";
import { processAlive, readPid, waitFor } from "./support/process.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-cgroup-")));
const servicesRequired = process.env.REQUIRE_TEST_SERVICES === "1";

/**
 * A shell line that leaves behind a `sleep` with an empty environment in a session of its own,
 * orphaned at once (its parent subshell exits): no tag, no group, no parent links it to the run.
 * The line waits until the escapee has written its pid, then goes on with `rest`.
 */
const escape = (pidFile: string, rest = "echo started") =>
  `(env -i /usr/bin/setsid /bin/sh -c 'echo $$ > ${pidFile}; exec /bin/sleep 300' >/dev/null 2>&1 </dev/null &); while [ ! -s ${pidFile} ]; do sleep 0.05; done; ${rest}`;

const strays: number[] = [];
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL"); // what the baseline, or a failed assertion, left behind
    } catch {
      // gone
    }
  }
});
afterAll(() => removeTestCgroupRoot());

async function runCli(fields: Record<string, unknown>, options: { cgroupRoot?: string; signal?: AbortSignal; timeoutMs?: number } = {}) {
  const executor = new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, ...(options.cgroupRoot ? { cgroupRoot: options.cgroupRoot } : {}) });
  const registry = new ExecutorRegistry().register(executor);
  const request = parseTaskRequest({ type: "cli", title: "cgroup test", workingDirectory: root, ...fields }, registry);
  if (!request.ok) throw new Error(JSON.stringify(request.errors));
  const task = newTask(request.value, executor, { maxAttempts: 1, timeoutMs: options.timeoutMs ?? 20_000 });
  const outcome = await executeAttempt(executor, task, { timeoutMs: task.timeoutMs, attempt: 1, logger: silentLogger(), ...(options.signal ? { signal: options.signal } : {}) });
  return { outcome, result: (outcome.result ?? {}) as Record<string, unknown> };
}

describe("run cgroups", () => {
  it("has a cgroup v2 directory to test with when the run requires it", () => {
    if (servicesRequired) expect(cgroupProblem, "a cgroup v2 directory is required by this run").toBeUndefined();
    else expect(typeof (cgroupProblem ?? testCgroupRoot)).toBe("string");
  });

  it("without a cgroup root, a process that cleared its environment and was orphaned outlives the run (what the cgroup closes)", async () => {
    const pidFile = path.join(root, "baseline.pid");
    const { outcome } = await runCli({ command: "sh", args: ["-c", escape(pidFile)] });
    const escapee = await waitFor(() => readPid(pidFile), 5000, "escapee pid");
    strays.push(escapee);
    expect(outcome.status).toBe("completed");
    expect(processAlive(escapee)).toBe(true);
  });
});

describe.skipIf(!testCgroupRoot)("run cgroups under TASK_CGROUP_ROOT", () => {
  const cgroupRoot = testCgroupRoot ?? "";

  it("a CLI task's escapee ends with the run; the task's output and exit code are its own; the run's cgroup is removed", async () => {
    const pidFile = path.join(root, "cli.pid");
    const { outcome, result } = await runCli({ command: "sh", args: ["-c", escape(pidFile, "echo started; exit 3")], retryExitCodes: [] }, { cgroupRoot });
    const escapee = await waitFor(() => readPid(pidFile), 5000, "escapee pid");
    strays.push(escapee);
    expect(outcome.status).toBe("failed");
    expect(result).toMatchObject({ exitCode: 3, stdout: "started\n" });
    expect(processAlive(escapee)).toBe(false);
    expect(runCgroupsLeft()).toEqual([]);
  });

  it("the result says how much CPU the run's processes used — a child's too — and a sleeping one uses next to none", async () => {
    const busy = await runCli({ command: "sh", args: ["-c", "sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'"] }, { cgroupRoot });
    const cpu = busy.result.cpu as { userMs: number; systemMs: number };
    expect(cpu.userMs + cpu.systemMs).toBeGreaterThan(100);
    const idle = await runCli({ command: "sleep", args: ["0.5"] }, { cgroupRoot });
    const idleCpu = idle.result.cpu as { userMs: number; systemMs: number };
    expect(idle.result.durationMs).toBeGreaterThanOrEqual(500);
    expect(idleCpu.userMs + idleCpu.systemMs).toBeLessThan(100);
    // Without a cgroup per run it is not known, and not made up.
    expect((await runCli({ command: "true" })).result).not.toHaveProperty("cpu");
  });

  it("a manager's runs add their CPU to ph_tasks_cpu_seconds_total by type and mode, and keep it in the stored result", async () => {
    const store = await TaskStore.open({});
    const registry = new ExecutorRegistry().register(new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, cgroupRoot }));
    const manager = testManager(store, {}, registry);
    try {
      await manager.start();
      const { task } = await manager.enqueueTask({ type: "cli", title: "busy", command: "sh", args: ["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"], workingDirectory: root });
      const done = await waitFor(async () => {
        const t = await manager.getTask(task.id);
        return t?.status === "completed" ? t : undefined;
      }, 20_000, "the busy task");
      const stored = (done.result as { cpu: { userMs: number; systemMs: number } }).cpu;
      expect(stored.userMs + stored.systemMs).toBeGreaterThan(100);
      const values = (await manager.metrics?.registry.getSingleMetric("ph_tasks_cpu_seconds_total")?.get())?.values ?? [];
      const seconds = (mode: string) => values.find((v) => v.labels.type === "cli" && v.labels.mode === mode)?.value ?? Number.NaN;
      expect(seconds("user")).toBeCloseTo(stored.userMs / 1000, 3);
      expect(seconds("system")).toBeCloseTo(stored.systemMs / 1000, 3);
    } finally {
      await manager.stop(0);
      await store.close();
    }
  });

  it("a cancel ends the run's every process, escapee included, at once", async () => {
    const pidFile = path.join(root, "cancel.pid");
    const controller = new AbortController();
    const running = runCli({ command: "sh", args: ["-c", escape(pidFile, "exec sleep 300")] }, { cgroupRoot, signal: controller.signal });
    const escapee = await waitFor(() => readPid(pidFile), 5000, "escapee pid");
    strays.push(escapee);
    expect(runCgroupsLeft()).toHaveLength(1);
    controller.abort(new TaskAbortReason("cancel"));
    const { outcome, result } = await running;
    expect(outcome.status).toBe("cancelled");
    expect(result.cancelled).toBe(true);
    expect(processAlive(escapee)).toBe(false);
    expect(runCgroupsLeft()).toEqual([]);
  });

  it("the program runs as given — arguments untouched by any shell, PATH looked up in the task's environment — and a missing one is command_not_found", async () => {
    const odd = ["$(touch pwned)", "a b", "'", '"', ";", "*", "$0"];
    const { outcome, result } = await runCli({ command: "printf", args: ["%s|", ...odd] }, { cgroupRoot });
    expect(outcome.status).toBe("completed");
    expect(result.stdout).toBe(`${odd.join("|")}|`);
    expect(existsSync(path.join(root, "pwned"))).toBe(false);
    const bin = mkdtempSync(path.join(root, "bin-"));
    writeFileSync(path.join(bin, "greet"), "#!/bin/sh\necho hello from the task PATH\n", { mode: 0o755 });
    const own = await runCli({ command: "greet", environment: { PATH: `${bin}:/usr/bin:/bin` } }, { cgroupRoot });
    expect(own.outcome, JSON.stringify(own.outcome)).toMatchObject({ status: "completed" });
    expect(own.result.stdout).toBe("hello from the task PATH\n");
    const missing = await runCli({ command: "no-such-program-here" }, { cgroupRoot });
    expect(missing.outcome.status === "failed" && missing.outcome.error).toMatchObject({ code: "command_not_found", kind: "fatal" });
    expect(runCgroupsLeft()).toEqual([]);
  });

  it("a claude process's escapee ends with the run (the claude-code and claude-agent runs' process)", async () => {
    const proc = new ClaudeAgentProcess({ killGraceMs: 300, cgroupRoot });
    const pidFile = path.join(root, "agent.pid");
    proc.spawn({ command: "sh", args: ["-c", escape(pidFile, "exit 0")], cwd: root, env: { PATH: process.env.PATH }, signal: new AbortController().signal });
    const escapee = await waitFor(() => readPid(pidFile), 5000, "escapee pid");
    strays.push(escapee);
    await proc.gone(2000);
    expect(processAlive(escapee)).toBe(false);
    expect(runCgroupsLeft()).toEqual([]);
    // A claude binary that is not there fails to start as it would without a cgroup, leaving none.
    const missing = new ClaudeAgentProcess({ killGraceMs: 300, cgroupRoot });
    missing.spawn({ command: path.join(root, "no-such-claude"), args: [], cwd: root, env: { PATH: process.env.PATH }, signal: new AbortController().signal });
    await waitFor(() => missing.spawnError, 2000, "the spawn error");
    expect(missing.spawnError?.code).toBe("ENOENT");
    expect(missing.started).toBe(false);
    expect(runCgroupsLeft()).toEqual([]);
  });
});

describe("a TASK_CGROUP_ROOT that cannot be used", () => {
  it("is refused: a relative path by the configuration, a directory that is not a cgroup by the agent's start (runs are never let out unconfined)", async () => {
    expect(() => loadConfig({ TASK_CGROUP_ROOT: "sys/fs/cgroup/ph" }, root)).toThrow(/TASK_CGROUP_ROOT: must be an absolute path to a cgroup v2 directory .* \(got "sys\/fs\/cgroup\/ph"\)/);
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-cgroup-agent-"));
    const start = startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_CGROUP_ROOT: root }, dataDir), { logger: silentLogger(), rules: [] });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/TASK_CGROUP_ROOT: is not a cgroup v2 directory .*\(got \/tmp\/ph-cgroup-/);
  });
});

describe.skipIf(!testCgroupRoot)("what a dead agent's runs left under TASK_CGROUP_ROOT", () => {
  const cgroupRoot = testCgroupRoot ?? "";

  /** A `sleep` placed in `cgroup` (made if need be), as a run's process would be. */
  function sleeperIn(cgroup: string): number {
    mkdirSync(cgroup, { recursive: true });
    const child = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    child.unref();
    const pid = child.pid ?? 0;
    writeFileSync(path.join(cgroup, "cgroup.procs"), String(pid));
    strays.push(pid);
    return pid;
  }

  it("is ended and removed by the next agent's reaper; a live agent's runs are left alone", async () => {
    const exited = spawnSync("true").pid; // a pid whose process is gone
    const gone = path.join(cgroupRoot, `agent-${exited}-1`);
    const reused = path.join(cgroupRoot, `agent-${process.pid}-1`); // this pid, but not started then
    const deadRun = sleeperIn(path.join(gone, "ph-run-a"));
    const reusedRun = sleeperIn(path.join(reused, "ph-run-b"));
    const liveAgent = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    strays.push(liveAgent.pid ?? 0);
    const live = path.join(cgroupRoot, agentCgroupName(liveAgent.pid));
    const liveRun = sleeperIn(path.join(live, "ph-run-c"));

    const reaped = await reapDeadAgents(cgroupRoot, 200);
    expect(reaped.map((r) => [r.dir, r.processes, r.stuck]).sort()).toEqual([[gone, 1, false], [reused, 1, false]].sort());
    expect(processAlive(deadRun)).toBe(false);
    expect(processAlive(reusedRun)).toBe(false);
    expect(existsSync(gone) || existsSync(reused)).toBe(false);
    expect(processAlive(liveRun)).toBe(true);
    expect(existsSync(path.join(live, "ph-run-c"))).toBe(true);
    process.kill(liveRun, "SIGKILL");
    await waitFor(() => !processAlive(liveRun), 2000, "the live agent's run to end");
    rmdirSync(path.join(live, "ph-run-c"));
    rmdirSync(live);
  });

  it("two agents share a root: when one is killed with SIGKILL mid-run, the other ends its task's process within seconds, without a restart", async () => {
    const dir = mkdtempSync(path.join(root, "pair-"));
    const pidFile = path.join(dir, "task.pid");
    const env = (name: string) => ({ TASK_CGROUP_ROOT: cgroupRoot, TASK_DATA_DIR: path.join(dir, name), TASK_ALLOWED_ROOTS: dir, TASK_KILL_GRACE_MS: "300" });
    const doomed = new AgentProcess(dir, env("doomed"));
    const survivor = new AgentProcess(dir, env("survivor"));
    try {
      const url = await doomed.url;
      await survivor.url;
      const submitted = await freshFetch(`${url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "long", command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 300`], workingDirectory: dir }) });
      expect(submitted.status).toBe(201);
      const taskPid = await waitFor(() => readPid(pidFile), 15_000, "the task's pid");
      strays.push(taskPid);
      const doomedDir = path.join(cgroupRoot, agentCgroupName(doomed.child.pid));
      await doomed.stop("SIGKILL");
      // The survivor looks every 5 s; the task's process gets its grace period, then goes.
      await waitFor(() => !processAlive(taskPid), 15_000, "the survivor to end the dead agent's task process");
      await waitFor(() => !existsSync(doomedDir), 5000, "the dead agent's directory to be removed");
      // (the log line comes through the agent's stdout pipe, maybe just after the removal is seen)
      await waitFor(() => /ended 1 process\(es\) a dead agent's runs left going/.test(survivor.stdout), 5000, "the survivor's warning");
    } finally {
      await doomed.stop("SIGKILL");
      expect(await survivor.stop()).toBe(0);
    }
  }, 90_000);

  it("an agent killed with SIGKILL mid-run: its task's process goes on until the next agent starts, which ends it; a clean stop leaves nothing", async () => {
    const dir = mkdtempSync(path.join(root, "agent-"));
    const pidFile = path.join(dir, "task.pid");
    const env = { TASK_CGROUP_ROOT: cgroupRoot, TASK_DATA_DIR: path.join(dir, "data"), TASK_ALLOWED_ROOTS: dir, TASK_KILL_GRACE_MS: "300", TASK_LEASE_MS: "60000" };
    const first = new AgentProcess(dir, env);
    const url = await first.url;
    const submitted = await freshFetch(`${url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "long", command: "sh", args: ["-c", `echo $$ > ${pidFile}; exec sleep 300`], workingDirectory: dir }) });
    expect(submitted.status).toBe(201);
    const taskPid = await waitFor(() => readPid(pidFile), 15_000, "the task's pid");
    strays.push(taskPid);
    const firstDir = path.join(cgroupRoot, agentCgroupName(first.child.pid));
    expect(existsSync(firstDir)).toBe(true);
    await first.stop("SIGKILL");
    expect(processAlive(taskPid)).toBe(true); // nothing ended it: its agent is gone

    const second = new AgentProcess(dir, env);
    await second.url;
    expect(processAlive(taskPid)).toBe(false);
    expect(existsSync(firstDir)).toBe(false);
    // Logged on stdout before the URL went to stderr; the two pipes need not arrive in that order.
    await waitFor(() => /ended 1 process\(es\) a dead agent's runs left going/.test(second.stdout), 5000, "the second agent's warning");
    const secondDir = path.join(cgroupRoot, agentCgroupName(second.child.pid));
    expect(existsSync(secondDir)).toBe(true);
    // Its runs are counted: `ph-tasks show` says what one cost.
    const busy = await second.cli(["submit", "cli", "--cwd", dir, "--", "sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"]);
    const id = busy.stdout.trim();
    const shown = await waitFor(async () => {
      const out = (await second.cli(["show", id])).stdout;
      return out.includes("status:    completed") ? out : undefined;
    }, 20_000, "the busy task to complete");
    expect(shown).toMatch(/^cpu: {7}\d+\.\d\d s user, \d+\.\d\d s system \(all its processes\)$/m);
    expect(await second.stop()).toBe(0);
    expect(existsSync(secondDir)).toBe(false);
  }, 60_000);
});
