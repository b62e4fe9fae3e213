/**
 * Limits on a run's total — its processes together, not each one (run-limits.ts has those): how
 * many processes and threads it may have at once (`processes`, the cgroup's pids.max) and how much
 * memory all of them may use (`totalMemoryMb`). Rlimits cannot do either: RLIMIT_NPROC counts every
 * process of the user, and each process has its own RLIMIT_DATA, so a fork bomb or ten processes of
 * 500 MB each pass them. The kernel's cgroup controllers count the run's processes together.
 *
 * Where the controllers are: in the cgroup v2 hierarchy when TASK_CGROUP_ROOT's `cgroup.controllers`
 * lists them (a pure v2 system, or a delegated subtree) — then they are enabled for the children
 * (`cgroup.subtree_control`) and each run's cgroup gets `pids.max` / `memory.max`. On a hybrid
 * system (v2 mounted at /sys/fs/cgroup/unified, the controllers in v1 hierarchies) a run also gets a
 * cgroup in each v1 hierarchy it needs, at the same path below its mount as its v2 cgroup below the
 * v2 mount — /sys/fs/cgroup/pids/ph-tasks/agent-…/ph-run-… beside /sys/fs/cgroup/unified/ph-tasks/… —
 * and the launch trampoline (run-cgroup.ts) moves the leader into those too before the program starts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RunLimits } from "../types.js";

export type TotalController = "pids" | "memory";

const MB = 1024 * 1024;

/** The controllers the totals in `limits` need. */
export function controllersFor(limits: RunLimits | undefined): TotalController[] {
  const needed: TotalController[] = [];
  if (limits?.processes !== undefined) needed.push("pids");
  if (limits?.totalMemoryMb !== undefined) needed.push("memory");
  return needed;
}

interface CgroupMounts {
  v2?: string;
  v1: Map<string, string>;
}

let mountsRead: CgroupMounts | undefined;

/** The cgroup v2 mount and the v1 hierarchies by controller, from /proc/self/mountinfo (read once). */
function cgroupMounts(): CgroupMounts {
  if (mountsRead) return mountsRead;
  const found: CgroupMounts = { v1: new Map() };
  let info = "";
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    // not Linux: neither
  }
  for (const line of info.split("\n")) {
    const [before, after] = line.split(" - ");
    if (!before || !after) continue;
    const mountPoint = before.split(" ")[4];
    const [fsType, , superOptions = ""] = after.split(" ");
    if (!mountPoint) continue;
    if (fsType === "cgroup2") found.v2 ??= mountPoint;
    if (fsType === "cgroup") for (const option of superOptions.split(",")) if (!found.v1.has(option)) found.v1.set(option, mountPoint);
  }
  mountsRead = found;
  return found;
}

/** Where `controller` counts for cgroups made in the v2 directory `dir`. */
type Place = { version: 2 } | { version: 1; dir: string } | { problem: string };

const readText = (file: string): string => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
};
const listed = (file: string, name: string): boolean => readText(file).split(/\s+/).includes(name);

/** `dir`'s place in the v1 hierarchy of `controller`, or undefined when there is none. */
function v1Mirror(dir: string, controller: TotalController): string | undefined {
  const { v2, v1 } = cgroupMounts();
  const mount = v1.get(controller);
  if (!v2 || !mount) return undefined;
  const relative = path.relative(v2, dir);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
  return path.join(mount, relative);
}

/**
 * Enables `controller` for the children of the v2 cgroup `parent` when it has it (TASK_CGROUP_ROOT,
 * for an agent's directory inside it); false when it has not, or cannot pass it on.
 */
function passedOn(parent: string, controller: TotalController): boolean {
  if (!listed(path.join(parent, "cgroup.controllers"), controller)) return false;
  if (listed(path.join(parent, "cgroup.subtree_control"), controller)) return true;
  try {
    writeFileSync(path.join(parent, "cgroup.subtree_control"), `+${controller}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `controller` is for the children of the v2 cgroup `dir`, made ready: enabled in its
 * `cgroup.subtree_control` (v2), or its v1 mirror made. A problem names what stands in the way.
 * Looked at again for each run (a few small reads): an agent's directory removed at a clean stop
 * and made again by the next agent of the same process starts without either.
 */
export function controllerPlace(dir: string, controller: TotalController): Place {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true }); // a one-shot run's agent directory, made with its first run
  // An agent's directory gets what TASK_CGROUP_ROOT, its parent, has (the root itself is not
  // looked above unless it lacks one: its parent is the machine's, not this agent's).
  if (listed(path.join(dir, "cgroup.controllers"), controller) || passedOn(path.dirname(dir), controller)) {
    if (listed(path.join(dir, "cgroup.subtree_control"), controller)) return { version: 2 };
    try {
      writeFileSync(path.join(dir, "cgroup.subtree_control"), `+${controller}`);
      return { version: 2 };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      const why = code === "EBUSY" ? "it holds processes of its own (a cgroup v2 directory with processes cannot pass controllers on: move them into a child)" : code;
      return { problem: `lists the ${controller} controller but it cannot be enabled for its children (${why})` };
    }
  }
  const mirror = v1Mirror(dir, controller);
  if (!mirror) return { problem: `has no ${controller} controller: its cgroup.controllers does not list it and no cgroup v1 ${controller} hierarchy is mounted beside the v2 one` };
  try {
    mkdirSync(mirror, { recursive: true });
  } catch (error) {
    return { problem: `has its ${controller} controller in a cgroup v1 hierarchy, where ${mirror} cannot be made by this agent (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  return { version: 1, dir: mirror };
}

/**
 * Why runs in cgroups under `dir` (TASK_CGROUP_ROOT, or an agent's directory there) cannot be held
 * to the totals in `limits`, or undefined when they can. Without a cgroup root, none can.
 */
export function totalsProblem(dir: string | undefined, limits: RunLimits | undefined): string | undefined {
  const needed = controllersFor(limits);
  if (needed.length === 0) return undefined;
  if (dir === undefined) return "cannot be applied: a run's totals are counted in its cgroup, and TASK_CGROUP_ROOT is not set";
  for (const controller of needed) {
    const place = controllerPlace(dir, controller);
    if ("problem" in place) return `cannot be applied: TASK_CGROUP_ROOT ${place.problem}`;
  }
  return undefined;
}

/** What a run's totals stopped: forks refused at `processes`, processes the kernel ended at `totalMemoryMb`. */
export interface TotalsHit {
  refusedForks: number;
  memoryKills: number;
}

const counter = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);

/**
 * A run's totals in force: its v2 cgroup's limit files written, or its v1 cgroups made beside it
 * (whose `cgroup.procs` the leader must join as well: `joinFiles`).
 */
export class RunTotals {
  private constructor(
    private readonly v2Dir: string,
    private readonly v1Dirs: Map<TotalController, string>,
    /** The controllers whose limits are set: none for a run without totals. */
    private readonly controllers: readonly TotalController[],
  ) {}

  /** Puts `limits`' totals on the run cgroup `runDir` (made already in the v2 directory `parent`). */
  static apply(parent: string, runDir: string, limits: RunLimits | undefined): RunTotals {
    const v1Dirs = new Map<TotalController, string>();
    const controllers = controllersFor(limits);
    const totals = new RunTotals(runDir, v1Dirs, controllers);
    try {
      for (const controller of controllers) {
        const place = controllerPlace(parent, controller);
        if ("problem" in place) throw new Error(`the run's ${controller} limit cannot be set: TASK_CGROUP_ROOT ${place.problem}`);
        let dir = runDir;
        if (place.version === 1) {
          dir = path.join(place.dir, path.basename(runDir));
          mkdirSync(dir, { recursive: true });
          v1Dirs.set(controller, dir);
        }
        if (controller === "pids") writeFileSync(path.join(dir, "pids.max"), String(limits?.processes));
        else writeMemoryLimit(dir, (limits?.totalMemoryMb ?? 0) * MB, place.version);
      }
    } catch (error) {
      totals.remove();
      throw error;
    }
    return totals;
  }

  /** The v1 `cgroup.procs` files the leader joins besides its v2 cgroup's. */
  get joinFiles(): string[] {
    return [...this.v1Dirs.values()].map((dir) => path.join(dir, "cgroup.procs"));
  }

  /** What the totals stopped so far (read before remove()); undefined for a run without totals. */
  hits(): TotalsHit | undefined {
    if (this.controllers.length === 0) return undefined;
    const pidsDir = this.v1Dirs.get("pids") ?? this.v2Dir;
    const memoryDir = this.v1Dirs.get("memory");
    return {
      refusedForks: counter(readText(path.join(pidsDir, "pids.events")), "max"),
      memoryKills: counter(readText(memoryDir ? path.join(memoryDir, "memory.oom_control") : path.join(this.v2Dir, "memory.events")), "oom_kill"),
    };
  }

  /** Removes the v1 cgroups (the v2 one is RunCgroup's); false while one still has processes. */
  remove(): boolean {
    let all = true;
    for (const [controller, dir] of this.v1Dirs) {
      try {
        rmdirSync(dir);
        this.v1Dirs.delete(controller);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") this.v1Dirs.delete(controller);
        else all = false;
      }
    }
    return all;
  }
}

/** memory.max (v2) or memory.limit_in_bytes (v1), and no swap past it where the kernel counts swap. */
function writeMemoryLimit(dir: string, bytes: number, version: 1 | 2): void {
  if (version === 2) {
    writeFileSync(path.join(dir, "memory.max"), String(bytes));
    if (existsSync(path.join(dir, "memory.swap.max"))) writeFileSync(path.join(dir, "memory.swap.max"), "0");
    return;
  }
  writeFileSync(path.join(dir, "memory.limit_in_bytes"), String(bytes));
  if (existsSync(path.join(dir, "memory.memsw.limit_in_bytes"))) writeFileSync(path.join(dir, "memory.memsw.limit_in_bytes"), String(bytes));
}

/**
 * Removes the v1 cgroups mirroring the v2 directory `dir` and everything below them, deepest first
 * (an agent's directory at a clean stop, a dead agent's once its processes are gone). Best effort:
 * one still holding processes is left.
 */
export function removeV1Mirrors(dir: string): void {
  for (const controller of ["pids", "memory"] as const) {
    const mirror = v1Mirror(dir, controller);
    if (mirror && existsSync(mirror)) removeTree(mirror);
  }
}

function removeTree(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(path.join(dir, entry.name));
    rmdirSync(dir);
  } catch {
    // populated, or gone
  }
}
