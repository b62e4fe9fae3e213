/**
 * A cgroup (v2) per run, under TASK_CGROUP_ROOT: every process a run starts is in it, whatever it
 * does afterwards. The process group and the run's tag (stray-processes.ts) lose a process that
 * both cleared its environment and was orphaned (`(env -i setsid daemon &)`); the kernel does not
 * lose it from a cgroup — only a write to another cgroup's `cgroup.procs` moves a process, and the
 * agent owns that directory, not the task.
 *
 * The leader joins its cgroup before the task's program starts: it is spawned as
 * `/bin/sh -c '<join each, then exec>' ph-run <cgroup.procs>... -- <program> <args...>` — writing 0 to
 * a cgroup.procs moves the writer, the shell, which then becomes the program (same pid). Nothing of
 * the task passes through the shell's parser: the files, the program and its arguments are
 * positional parameters. Moving the child from here after spawn() would leave it a moment to fork
 * outside. More than one cgroup.procs when the run's totals (run-totals.ts) live in cgroup v1
 * hierarchies beside the v2 one.
 *
 * At the run's end whatever is left in the cgroup is ended (SIGTERM, SIGKILL: see RunProcesses) and
 * the directory removed; `cgroup.kill` (Linux 5.14) finishes the stubborn ones.
 */
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveProgram, spawnLikeError } from "./resolve-program.js";
import { RunTotals, type TotalsHit } from "./run-totals.js";
import type { RunLimits } from "../types.js";

const TRAMPOLINE = 'while [ "$1" != -- ]; do echo 0 > "$1" || exit 126; shift; done; shift; exec "$@"';

/** Why `root` cannot hold the runs' cgroups, or undefined when it can (a child is made and removed to check). */
export function cgroupRootProblem(root: string): string | undefined {
  if (!path.isAbsolute(root)) return "is not an absolute path";
  if (!existsSync(root)) return "does not exist";
  if (!existsSync(path.join(root, "cgroup.procs")) || !existsSync(path.join(root, "cgroup.events"))) {
    return "is not a cgroup v2 directory (no cgroup.procs and cgroup.events in it; cgroup v2 is mounted at /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems)";
  }
  const probe = path.join(root, `ph-probe-${randomBytes(4).toString("hex")}`);
  try {
    mkdirSync(probe);
  } catch (error) {
    return `cannot be written by this agent (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): make it its own, e.g. a delegated cgroup`;
  }
  try {
    accessSync(path.join(probe, "cgroup.procs"), constants.W_OK);
  } catch {
    return "lets this agent make cgroups but not move processes into them (cgroup.procs not writable)";
  } finally {
    rmdirSync(probe);
  }
  return undefined;
}

/** CPU a run's processes used, all of them (only known with a cgroup per run). */
export interface RunCpuUsage {
  userMs: number;
  systemMs: number;
}

export class RunCgroup {
  private constructor(
    readonly path: string,
    private readonly totals?: RunTotals,
  ) {}

  /**
   * Makes `name` under `root` (`root` may be a one-shot run's directory, made with its first run),
   * holding the run to the totals in `limits` (processes, totalMemoryMb) when it has any.
   */
  static create(root: string, name: string, limits?: RunLimits): RunCgroup {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    try {
      return new RunCgroup(dir, RunTotals.apply(root, dir, limits));
    } catch (error) {
      rmdirSync(dir);
      throw error;
    }
  }

  /** One that exists already (a dead agent's, to end and remove). */
  static at(dir: string): RunCgroup {
    return new RunCgroup(dir);
  }

  /**
   * What to spawn so that `command` starts inside this cgroup. An error like spawn()'s when the
   * program is not there (the shell would only exit 127 for it).
   */
  launch(command: string, args: readonly string[], env: Record<string, string>, cwd: string): { command: string; args: string[] } | { error: NodeJS.ErrnoException } {
    const program = resolveProgram(command, env, cwd);
    if ("errno" in program) return { error: spawnLikeError(command, program.errno) };
    const join = [...(this.totals?.joinFiles ?? []), path.join(this.path, "cgroup.procs")];
    return { command: "/bin/sh", args: ["-c", TRAMPOLINE, "ph-run", ...join, "--", program.file, ...args] };
  }

  /** What its totals stopped (none without totals). */
  totalsHit(): TotalsHit | undefined {
    return this.totals?.hits();
  }

  /** CPU time its processes used, the ended ones included (cpu.stat). */
  cpuUsage(): RunCpuUsage | undefined {
    try {
      const stat = readFileSync(path.join(this.path, "cpu.stat"), "utf8");
      const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(stat)?.[1] ?? Number.NaN);
      const user = field("user_usec");
      const system = field("system_usec");
      return Number.isFinite(user) && Number.isFinite(system) ? { userMs: Math.round(user / 1000), systemMs: Math.round(system / 1000) } : undefined;
    } catch {
      return undefined;
    }
  }

  /** The processes in it now. */
  pids(): number[] {
    try {
      return readFileSync(path.join(this.path, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** True while any process is in it. */
  populated(): boolean {
    try {
      return /^populated 1$/m.test(readFileSync(path.join(this.path, "cgroup.events"), "utf8"));
    } catch {
      return false;
    }
  }

  /** SIGKILL to everything in it, at once (cgroup.kill), or one by one where the kernel is older. */
  kill(): void {
    try {
      writeFileSync(path.join(this.path, "cgroup.kill"), "1");
      return;
    } catch {
      // No cgroup.kill (before Linux 5.14): signal each.
    }
    for (const pid of this.pids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }

  /** Removes the directory (and its totals' v1 cgroups); false while processes are still in it. */
  remove(): boolean {
    if (this.totals && !this.totals.remove()) return false;
    try {
      rmdirSync(this.path);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ENOENT";
    }
  }
}
