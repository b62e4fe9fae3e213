/**
 * One process per data directory (src/store/data-dir-lock.ts): PGlite opens a directory another
 * process has open without a word, so a second agent on the same TASK_DATA_DIR would write the same
 * store files. The second is refused, naming the first; a lock whose holder is gone — exited, killed
 * with -9, its pid now another process's, the machine restarted since — is taken over.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirInUseError, LOCK_FILE, lockDataDir } from "../src/store/data-dir-lock.js";
import { AgentProcess } from "./support/agent-process.js";

const base = mkdtempSync(path.join(tmpdir(), "ph-lock-"));
let n = 0;
const freshDir = () => path.join(base, `d${n++}`);
const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const lockOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, LOCK_FILE), "utf8")) as { pid: number; command: string };
/** A lock as another holder would have written it. */
const writeLock = (dir: string, holder: Record<string, unknown>) => {
  lockDataDir(dir, "maker").release(); // the directory made
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ host: os.hostname(), bootId, startTicks: null, command: "ph-tasks serve", since: "2026-12-01T00:00:00.000Z", ...holder }));
};

describe("one process per data directory", () => {
  const children: { kill: (s: NodeJS.Signals) => boolean }[] = [];
  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
  });

  it("a second open is refused, naming the holder; released, the directory may be taken again", () => {
    const dir = freshDir();
    const lock = lockDataDir(dir, "ph-tasks serve");
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, command: "ph-tasks serve" });
    expect(() => lockDataDir(dir, "ph-tasks store copy")).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dir, "ph-tasks store copy")).toThrow(new RegExp(`^the data directory ${dir} is in use by ph-tasks serve \\(pid ${process.pid}, since [^)]+\\): one process at a time may open it — stop that one first$`));
    lock.release();
    lock.release();
    const again = lockDataDir(dir, "ph-tasks store copy");
    expect(lockOf(dir).command).toBe("ph-tasks store copy");
    again.release();
  });

  it("takes over a lock whose holder is gone: exited, its pid now another process's, another boot, or not a lock at all", async () => {
    const exited = spawnSync(process.execPath, ["-e", "0"]).pid;
    const live = spawn("sleep", ["30"]);
    children.push(live);
    await new Promise((resolve) => live.once("spawn", resolve));
    const cases: Record<string, unknown>[] = [
      { pid: exited },
      { pid: live.pid, startTicks: "1" }, // the pid lives, but as a process started at another time
      { pid: live.pid, bootId: "another-boot" },
    ];
    for (const holder of cases) {
      const dir = freshDir();
      writeLock(dir, holder);
      const lock = lockDataDir(dir, "ph-tasks serve");
      expect(lockOf(dir).pid).toBe(process.pid);
      lock.release();
    }
    const garbled = freshDir();
    lockDataDir(garbled, "maker").release();
    writeFileSync(path.join(garbled, LOCK_FILE), "half a lo");
    lockDataDir(garbled, "ph-tasks serve").release();
  });

  it("refuses while the holder lives (its pid and start time), and a holder on another machine, saying how to free it", () => {
    const live = spawn("sleep", ["30"]);
    children.push(live);
    const ticks = readFileSync(`/proc/${live.pid}/stat`, "utf8").split(") ")[1]?.split(" ")[19];
    const dir = freshDir();
    writeLock(dir, { pid: live.pid, startTicks: ticks });
    expect(() => lockDataDir(dir, "ph-tasks serve")).toThrow(`is in use by ph-tasks serve (pid ${live.pid}, since 2026-12-01T00:00:00.000Z)`);
    const remote = freshDir();
    writeLock(remote, { pid: 4242, host: "another-machine" });
    expect(() => lockDataDir(remote, "ph-tasks serve")).toThrow(`(pid 4242 on another-machine, since 2026-12-01T00:00:00.000Z): one process at a time may open it — stop that one first, or give this one a TASK_DATA_DIR of its own (if that process is gone, remove ${path.join(remote, LOCK_FILE)})`);
  });

  it("a second agent on the same data directory exits naming the first; after the first is killed with -9, a new one starts there and has its tasks", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-lock-agent-"));
    const env = { TASK_DATA_DIR: path.join(dir, "data"), TASK_SHUTDOWN_GRACE_MS: "100" };
    const first = new AgentProcess(dir, env);
    children.push(first.child);
    const id = (await first.cli(["submit", "cli", "--", "echo", "kept"])).stdout.trim();
    expect((await first.cli(["logs", id, "--follow"])).stdout).toBe("kept\n");

    const second = new AgentProcess(dir, env);
    children.push(second.child);
    await expect(second.url).rejects.toThrow(`agent exited early (1): ph-tasks: the data directory ${env.TASK_DATA_DIR} is in use by ph-tasks serve (pid ${first.child.pid},`);

    await first.stop("SIGKILL");
    const third = new AgentProcess(dir, env);
    children.push(third.child);
    expect((await third.cli(["logs", id])).stdout).toBe("kept\n");
    expect(await third.stop("SIGTERM")).toBe(0);
  }, 90_000);
});
