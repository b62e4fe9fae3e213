/**
 * Limits on a run's total (run-totals.ts): how many processes it may have at once and how much
 * memory all of them together — counted in its cgroup, which a fork bomb or many processes each
 * under its own rlimit cannot get round. Real processes in real cgroups: the v2 test root of
 * support/cgroup.ts, with the controllers wherever this machine has them (v2, or v1 hierarchies
 * beside it on a hybrid system).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startAgent } from "../src/agent.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { ApiTaskSchema } from "../src/cli/client.js";
import { describeTask } from "../src/cli/format.js";
import { runChecks } from "../src/doctor/checks.js";
import { taskToJson } from "../src/http/task-json.js";
import { silentLogger } from "../src/logger.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { claudeLimitsProblems } from "../src/tasks/executors/claude/claude-limits.js";
import { totalsProblem } from "../src/tasks/executors/run-totals.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import type { RunLimits } from "../src/tasks/types.js";
import { cgroupProblem, removeTestCgroupRoot, runCgroupsLeft, testCgroupRoot } from "./support/cgroup.js";
import { waitFor } from "./support/process.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-totals-")));
const servicesRequired = process.env.REQUIRE_TEST_SERVICES === "1";
afterAll(() => removeTestCgroupRoot());

/** Why the test root cannot count a run's processes and memory together, or undefined. */
const totalsMissing = testCgroupRoot ? totalsProblem(testCgroupRoot, { processes: 100, totalMemoryMb: 1024 }) : (cgroupProblem ?? "no cgroup root");
if (totalsMissing) console.warn(`\n*** A run's totals cannot be counted here (${totalsMissing}): those tests are SKIPPED.${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);

function executorWith(limits: RunLimits | undefined, cgroupRoot = testCgroupRoot) {
  return new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, ...(cgroupRoot ? { cgroupRoot } : {}), ...(limits ? { limits } : {}) });
}

async function runCli(fields: Record<string, unknown>, options: { agentLimits?: RunLimits; timeoutMs?: number; whileRunning?: () => void } = {}) {
  const executor = executorWith(options.agentLimits);
  const registry = new ExecutorRegistry().register(executor);
  const request = parseTaskRequest({ type: "cli", title: "totals test", workingDirectory: root, ...fields }, registry);
  if (!request.ok) throw new Error(JSON.stringify(request.errors));
  expect(await executor.admit(request.value as never)).toEqual([]);
  const task = newTask(request.value, executor, { maxAttempts: 1, timeoutMs: options.timeoutMs ?? 20_000 });
  const pending = executeAttempt(executor, task, { timeoutMs: task.timeoutMs, attempt: 1, logger: silentLogger() });
  let sampler: NodeJS.Timeout | undefined;
  if (options.whileRunning) sampler = setInterval(options.whileRunning, 20);
  try {
    const outcome = await pending;
    return { outcome, result: (outcome.result ?? {}) as Record<string, unknown> };
  } finally {
    clearInterval(sampler);
  }
}

const errorOf = (outcome: Awaited<ReturnType<typeof runCli>>["outcome"]) => (outcome.status === "completed" ? undefined : outcome.error);

/** The directories where the runs' pids counters are: the v2 run cgroups, or their v1 mirrors. */
function pidsCounters(): string[] {
  const dirs: string[] = [];
  const v2 = testCgroupRoot ?? "";
  const mirror = path.join("/sys/fs/cgroup/pids", path.relative("/sys/fs/cgroup/unified", v2));
  for (const base of [v2, mirror]) {
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) if (name.startsWith("ph-run-") && existsSync(path.join(base, name, "pids.current"))) dirs.push(path.join(base, name, "pids.current"));
  }
  return dirs;
}

/** The v1 cgroups of runs still there beside the test root (none once each run is over). */
function v1RunsLeft(): string[] {
  const relative = path.relative("/sys/fs/cgroup/unified", testCgroupRoot ?? "");
  return ["pids", "memory"].flatMap((controller) => {
    const mirror = path.join("/sys/fs/cgroup", controller, relative);
    return existsSync(mirror) ? readdirSync(mirror).filter((name) => name.startsWith("ph-run-")) : [];
  });
}

/** Processes on the machine whose command line mentions `marker`. */
const processesMentioning = (marker: string) => readdirSync("/proc").filter((pid) => {
  if (!/^\d+$/.test(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return false;
  }
}).length;

describe("a run's totals", () => {
  it("has cgroup controllers to count them with when the run requires it", () => {
    if (servicesRequired) expect(totalsMissing, "a cgroup root with the pids and memory controllers is required by this run").toBeUndefined();
    else expect(typeof (totalsMissing ?? testCgroupRoot)).toBe("string");
  });

  it("without totals, forty processes of one run all start (what `processes` closes)", async () => {
    const marker = `ph-baseline-${process.pid}`;
    let most = 0;
    const { outcome } = await runCli({ command: "sh", args: ["-c", `for i in $(seq 1 40); do sh -c 'sleep 1; : ${marker}' & done; wait`] }, { whileRunning: () => (most = Math.max(most, processesMentioning(marker))) });
    expect(outcome.status).toBe("completed");
    expect(most).toBeGreaterThanOrEqual(40); // the forty, and the shell whose line names them
  });

  it.skipIf(totalsMissing !== undefined)("a run past its process limit fails with process_limit, naming the limit; its cgroups are gone after", async () => {
    const { outcome, result } = await runCli({ command: "sh", args: ["-c", "for i in $(seq 1 40); do sleep 2 & done; wait"], limits: { processes: 10 } });
    expect(outcome.status).toBe("failed");
    expect(errorOf(outcome)?.code).toBe("process_limit");
    expect(errorOf(outcome)?.message).toMatch(/^'sh' reached its limit of 10 processes at once \(limits\.processes, TASK_LIMIT_PROCESSES\): \d+ fork\(s\) refused$/);
    expect((result.totalsHit as { refusedForks: number }).refusedForks).toBeGreaterThan(0);
    expect(result.limits).toEqual({ processes: 10 });
    expect(runCgroupsLeft()).toEqual([]);
    expect(v1RunsLeft()).toEqual([]);
  });

  it.skipIf(totalsMissing !== undefined)("a fork bomb never has more processes than the limit; the timeout ends it all, and the result counts the forks refused", async () => {
    let most = 0;
    const sample = () => {
      for (const file of pidsCounters()) most = Math.max(most, Number(readFileSync(file, "utf8")));
    };
    const { outcome, result } = await runCli({ command: "sh", args: ["-c", "bomb() { bomb | bomb & }; bomb; sleep 30"], limits: { processes: 30 } }, { timeoutMs: 3000, whileRunning: sample });
    expect(errorOf(outcome)?.code).toBe("timeout");
    expect(most).toBeGreaterThan(10); // it did try
    expect(most).toBeLessThanOrEqual(30);
    expect((result.totalsHit as { refusedForks: number }).refusedForks).toBeGreaterThan(0);
    await waitFor(() => runCgroupsLeft().length === 0 && v1RunsLeft().length === 0, 5000, "the run's cgroups to be removed");
  });

  it.skipIf(totalsMissing !== undefined)("two processes each under the per-process memory limit but over the run's total: the kernel ends one, the task fails with total_memory_limit", async () => {
    const allocate = `node -e 'const a=[];for(let i=0;i<8;i++)a.push(Buffer.alloc(10*1024*1024,1));setTimeout(()=>console.log("kept 80 MB"),1500)'`;
    const both = `${allocate} & ${allocate} & wait`;
    const within = await runCli({ command: "sh", args: ["-c", `${allocate} & ${allocate} & wait`], limits: { memoryMb: 1024 } });
    expect(within.outcome.status).toBe("completed"); // each process's own limit lets both through
    expect(String(within.result.stdout).match(/kept 80 MB/g)).toHaveLength(2);
    const { outcome, result } = await runCli({ command: "sh", args: ["-c", `${both}; exit 1`], limits: { memoryMb: 1024, totalMemoryMb: 128 } });
    expect(outcome.status).toBe("failed");
    expect(errorOf(outcome)?.code).toBe("total_memory_limit");
    expect(errorOf(outcome)?.message).toMatch(/reached its memory limit of 128 MB for all its processes together \(limits\.totalMemoryMb, TASK_LIMIT_TOTAL_MEMORY_MB\): the kernel ended (one|\d+) of them/);
    expect((result.totalsHit as { memoryKills: number }).memoryKills).toBeGreaterThan(0);
    expect(v1RunsLeft()).toEqual([]);
  });

  it.skipIf(totalsMissing !== undefined)("a run within its totals completes; its result has the limits and nothing stopped", async () => {
    const { outcome, result } = await runCli({ command: "sh", args: ["-c", "echo hi; sleep 0.1 & wait"] }, { agentLimits: { processes: 50, totalMemoryMb: 256 } });
    expect(outcome.status).toBe("completed");
    expect(result.limits).toEqual({ processes: 50, totalMemoryMb: 256 });
    expect(result.totalsHit).toEqual({ refusedForks: 0, memoryKills: 0 });
    // A run in a cgroup without totals says nothing of them.
    const plain = await runCli({ command: "true" });
    expect(plain.result.totalsHit).toBeUndefined();
  });
});

describe("asking for totals", () => {
  it("a task asking for more than the agent's is refused naming the field and the variable", async () => {
    const executor = executorWith({ processes: 50 });
    const registry = new ExecutorRegistry().register(executor);
    const request = parseTaskRequest({ type: "cli", title: "t", command: "true", workingDirectory: root, limits: { processes: 500 } }, registry);
    if (!request.ok) throw new Error(JSON.stringify(request.errors));
    const problems = await executor.admit(request.value as never);
    if (totalsMissing) expect(problems[0]?.message).toMatch(/cannot be applied/);
    else expect(problems).toEqual([{ field: "limits.processes", value: "500", message: "must be at most 50, this agent's TASK_LIMIT_PROCESSES" }]);
  });

  it("a task asking for totals from an agent without a cgroup root is refused, saying why", async () => {
    const executor = executorWith(undefined, "");
    const registry = new ExecutorRegistry().register(executor);
    const request = parseTaskRequest({ type: "cli", title: "t", command: "true", workingDirectory: root, limits: { totalMemoryMb: 256 } }, registry);
    if (!request.ok) throw new Error(JSON.stringify(request.errors));
    expect(await executor.admit(request.value as never)).toEqual([{ field: "limits", value: "together: memory 256 MB", message: "cannot be applied: a run's totals are counted in its cgroup, and TASK_CGROUP_ROOT is not set" }]);
  });

  it("a limit below what a shell needs, or no such limit, is refused with the allowed ones", () => {
    const registry = new ExecutorRegistry().register(executorWith(undefined));
    const low = parseTaskRequest({ type: "cli", title: "t", command: "true", workingDirectory: root, limits: { processes: 2 } }, registry);
    expect(low.ok ? [] : low.errors).toEqual([expect.objectContaining({ field: "limits.processes", message: expect.stringContaining("must be at least 8") })]);
    const unknown = parseTaskRequest({ type: "cli", title: "t", command: "true", workingDirectory: root, limits: { threads: 2 } }, registry);
    expect(unknown.ok ? "" : unknown.errors[0]?.message).toMatch(/has no limit "threads"; limits: .*processes, totalMemoryMb/);
  });

  it("a claude run's totals below what claude needs are refused, naming what it needs", () => {
    const problems = claudeLimitsProblems({ processes: 16, totalMemoryMb: 256 }, undefined, undefined).filter((p) => p.field !== "limits");
    expect(problems).toEqual([
      { field: "limits.totalMemoryMb", value: "256", message: expect.stringMatching(/^is below the 512 MB a claude run needs: /) },
      { field: "limits.processes", value: "16", message: expect.stringMatching(/^is below the 32 a claude run needs: /) },
    ]);
  });

  it("TASK_LIMIT_PROCESSES and TASK_LIMIT_TOTAL_MEMORY_MB need TASK_CGROUP_ROOT: the configuration says so", () => {
    expect(() => loadConfig({ TASK_LIMIT_PROCESSES: "100", TASK_LIMIT_TOTAL_MEMORY_MB: "512" }, root)).toThrow(ConfigError);
    try {
      loadConfig({ TASK_LIMIT_PROCESSES: "100", TASK_LIMIT_TOTAL_MEMORY_MB: "512" }, root);
    } catch (error) {
      expect((error as ConfigError).message).toMatch(/TASK_LIMIT_PROCESSES: needs TASK_CGROUP_ROOT: a run's processes are counted together in its cgroup \(got "?100"?\)/);
      expect((error as ConfigError).message).toMatch(/TASK_LIMIT_TOTAL_MEMORY_MB: needs TASK_CGROUP_ROOT/);
    }
  });

  it.skipIf(totalsMissing !== undefined)("an agent with totals runs its tasks under them, doctor names them, and a clean stop leaves no cgroup behind", async () => {
    const dataDir = mkdtempSync(path.join(root, "agent-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_CGROUP_ROOT: testCgroupRoot ?? "", TASK_ALLOWED_ROOTS: root, TASK_LIMIT_PROCESSES: "40", TASK_LIMIT_TOTAL_MEMORY_MB: "512" };
    const config = loadConfig(env, dataDir);
    const checks = await runChecks(env, dataDir);
    expect(checks.find((c) => c.name === "run limits")).toMatchObject({ level: "ok", detail: "a run's processes together: processes 40, memory 512 MB" });
    const agent = await startAgent(config, { logger: silentLogger(), rules: [] });
    try {
      const { task } = await agent.manager.enqueueTask({ type: "cli", title: "many", command: "sh", args: ["-c", "for i in $(seq 1 60); do sleep 2 & done; wait"], workingDirectory: root });
      const done = await waitFor(async () => {
        const status = await agent.manager.getTaskStatus(task.id);
        return status && ["failed", "completed"].includes(status.status) ? status : undefined;
      }, 20_000, "the task to end");
      expect(done.status).toBe("failed");
      expect(done.error?.code).toBe("process_limit");
      // `ph-tasks show` says them apart from each process's limits
      const full = await agent.manager.getTask(task.id);
      const shown = describeTask(ApiTaskSchema.parse(taskToJson(full ?? task)));
      expect(shown).toMatch(/^limits: {4}processes 40, memory 512 MB \(all its processes together\)$/m);
    } finally {
      await agent.stop();
    }
    expect(readdirSync(testCgroupRoot ?? "").filter((name) => name.startsWith("agent-"))).toEqual([]);
    const relative = path.relative("/sys/fs/cgroup/unified", testCgroupRoot ?? "");
    for (const controller of ["pids", "memory"]) {
      const mirror = path.join("/sys/fs/cgroup", controller, relative);
      if (existsSync(mirror)) expect(readdirSync(mirror).filter((name) => name.startsWith("agent-"))).toEqual([]);
    }
  }, 60_000);
});
