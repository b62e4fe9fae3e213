import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const bin = "bin/ph-tasks.js";
function phTasks(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
}

describe("ph-tasks run cli", () => {
  it("prints the output live, a completed summary, and exits 0", () => {
    const r = phTasks(["run", "cli", "--", "echo", "hello"]);
    expect(r.stdout).toBe("hello\n");
    expect(r.stderr).toMatch(/\[ph-tasks\] completed exit=0 duration=\d+ms/);
    expect(r.status).toBe(0);
  });

  it("exits with the command's exit status and says failed", () => {
    const r = phTasks(["run", "cli", "--", "sh", "-c", "echo bad >&2; exit 3"]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("bad\n");
    expect(r.stderr).toMatch(/failed exit=3/);
  });

  it("passes --input to stdin and --env to the environment", () => {
    const r = phTasks(["run", "cli", "--input", "from stdin", "--env", "WHO=world", "--", "sh", "-c", 'cat; echo " $WHO"']);
    expect(r.stdout).toBe("from stdin world\n");
  });

  it("127 for a missing command, 124 for a timeout", () => {
    expect(phTasks(["run", "cli", "--", "no-such-program-abc"]).status).toBe(127);
    const t = phTasks(["run", "cli", "--timeout", "300ms", "--", "sleep", "10"], { TASK_KILL_GRACE_MS: "100" });
    expect(t.status).toBe(124);
    expect(t.stderr).toContain("timeout");
  });

  it("a task the policy refuses is not run: exit 2 naming the field (a directory outside the roots, a command not allowed)", () => {
    const outside = phTasks(["run", "cli", "--cwd", "/etc", "--", "ls"], { TASK_ALLOWED_ROOTS: "/tmp" });
    expect(outside.status).toBe(2);
    expect(outside.stdout).toBe("");
    expect(outside.stderr).toContain('workingDirectory: is outside the allowed roots (/tmp) (got "/etc")');
    const command = phTasks(["run", "cli", "--", "rm", "-rf", "nothing-here"], { TASK_COMMAND_ALLOWLIST: "echo" });
    expect(command.status).toBe(2);
    expect(command.stderr).toContain('command: is not allowed; allowed: echo (got "rm")');
  });

  it("resource limits: --cpu-seconds stops a spinning program (cpu_limit, exit 1); more than TASK_LIMIT_* is refused (exit 2); a bad value is a usage error", () => {
    const spin = phTasks(["run", "cli", "--cpu-seconds", "1", "--", process.execPath, "-e", "for(;;){}"]);
    expect(spin.status).toBe(1);
    expect(spin.stderr).toContain("error=cpu_limit: '" + process.execPath + "' reached its CPU time limit of 1 s");
    const more = phTasks(["run", "cli", "--cpu-seconds", "10", "--", "true"], { TASK_LIMIT_CPU_SECONDS: "5" });
    expect(more.status).toBe(2);
    expect(more.stderr).toContain("limits.cpuSeconds: must be at most 5, this agent's TASK_LIMIT_CPU_SECONDS (got 10)");
    const bad = phTasks(["run", "cli", "--memory-mb", "x", "--", "true"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--memory-mb: expected a whole number, got "x"');
  });

  it("a bad configuration stops with the variable's name", () => {
    const r = phTasks(["run", "cli", "--", "echo", "x"], { TASK_MAX_CONCURRENT: "zero" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("TASK_MAX_CONCURRENT");
    expect(r.stderr).toContain('"zero"');
  });

  it("--help lists the commands", () => {
    const r = phTasks(["--help"]);
    expect(r.stdout).toContain("run");
    expect(r.status).toBe(0);
  });
});
