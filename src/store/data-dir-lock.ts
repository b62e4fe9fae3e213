/**
 * One process per data directory. The embedded store (PGlite) and the reactor's document files
 * live in TASK_DATA_DIR, and PGlite opens a directory another process has open without a word: two
 * agents on one data directory (a second `npm start`, a copy of the store taken from under a
 * running agent) would each write the same files, and the store would be lost. So whoever opens a
 * data directory first holds `agent.lock` in it — who holds it (pid, host, command, since) —, and
 * everyone else is refused, naming the holder.
 *
 * Written by hand rather than with a lock-file library: those decide that a holder is gone by the
 * age of the lock's mtime (made for network file systems), so a restart after a kill -9 would be
 * refused for their stale period. The holder is a process of this machine, so whether it still
 * lives is known exactly: its pid answers (kill 0), it is the same process (its start time in
 * /proc, against a pid used again), the machine did not restart since (boot id). A lock left by a
 * dead holder is taken over. Two processes taking over the same dead holder's lock in the very same
 * instant could both succeed; not guarded (it needs two starts within the same millisecond after a
 * crash).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

export const LOCK_FILE = "agent.lock";
/** The agent's own name for its hold (`ph-tasks serve`). */
export const SERVE = "ph-tasks serve";

/** Who holds a data directory, as its lock file records it. */
const HolderSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  /** The machine's boot (Linux: /proc/sys/kernel/random/boot_id); null where unknown. */
  bootId: z.string().nullable(),
  /** The process's start, in clock ticks since boot (/proc/<pid>/stat); null where unknown. */
  startTicks: z.string().nullable(),
  /** What holds it: `ph-tasks serve`, `ph-tasks store copy`. */
  command: z.string(),
  since: z.string(),
});
export type DataDirHolder = z.infer<typeof HolderSchema>;

export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: DataDirHolder,
    /** What this process wanted it for: an agent may be given another directory instead. */
    wanting: string,
  ) {
    const where = holder.host === os.hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
    super(
      `the data directory ${dir} is in use by ${holder.command} (${where}, since ${holder.since}): ` +
        `one process at a time may open it — stop that one first${wanting === SERVE ? ", or give this one a TASK_DATA_DIR of its own" : ""}` +
        (holder.host === os.hostname() ? "" : ` (if that process is gone, remove ${path.join(dir, LOCK_FILE)})`),
    );
    this.name = "DataDirInUseError";
  }
}

export interface DataDirLock {
  readonly dir: string;
  /** Lets go of the directory (idempotent). */
  release(): void;
}

/** Lock files this process holds: a second open in the same process is refused as well. */
const heldHere = new Set<string>();

/** Takes `dir` (created if missing) for this process, as `command`; throws DataDirInUseError while a live process holds it. */
export function lockDataDir(dir: string, command: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, LOCK_FILE);
  const mine: DataDirHolder = { pid: process.pid, host: os.hostname(), bootId: bootId(), startTicks: startTicks(process.pid), command, since: new Date().toISOString() };
  // Written whole beside it, then linked: a reader never sees half a lock, and link fails when one exists.
  const draft = `${file}.${process.pid}.${Date.now()}`;
  fs.writeFileSync(draft, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
  try {
    for (let tries = 0; ; tries++) {
      try {
        fs.linkSync(draft, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const holder = readHolder(file);
        if (holder && holderLives(holder, file)) throw new DataDirInUseError(dir, holder, command);
        if (tries >= 2) throw new Error(`the data directory ${dir}'s lock (${file}) keeps coming back: another process is opening it at this moment`, { cause: error });
        // Its holder is gone (or the file is not a lock we wrote): taken over.
        fs.rmSync(file, { force: true });
      }
    }
  } finally {
    fs.rmSync(draft, { force: true });
  }
  heldHere.add(file);
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      // Only ours: a lock someone took over meanwhile (after this process was thought gone) stays.
      const holder = readHolder(file);
      if (holder?.pid === mine.pid && holder.since === mine.since) fs.rmSync(file, { force: true });
    },
  };
}

/** Who holds `dir` now, if a live process does (ph-tasks doctor says so). */
export function dataDirHolder(dir: string): DataDirHolder | undefined {
  const file = path.join(dir, LOCK_FILE);
  const holder = readHolder(file);
  return holder && holderLives(holder, file) ? holder : undefined;
}

function readHolder(file: string): DataDirHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = HolderSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function holderLives(holder: DataDirHolder, file: string): boolean {
  // Another machine's process (a shared file system) cannot be asked: it is taken to live.
  if (holder.host !== os.hostname()) return true;
  if (holder.pid === process.pid) return heldHere.has(file);
  const boot = bootId();
  if (holder.bootId !== null && boot !== null && holder.bootId !== boot) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it lives, as another user's process.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const ticks = startTicks(holder.pid);
  return holder.startTicks === null || ticks === null || ticks === holder.startTicks;
}

function bootId(): string | null {
  try {
    return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat (the fields after the command's closing parenthesis start at 3). */
function startTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
