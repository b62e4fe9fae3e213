/**
 * The data directory is the agent's alone: the embedded store's files are written world-writable
 * by PGlite, so the directory itself must keep other users out (0700).
 */
import { chmodSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { ensurePrivateDataDir, openToOthers } from "../src/security/private-data-dir.js";

const modeOf = (dir: string) => statSync(dir).mode & 0o777;

describe("the data directory", () => {
  it("is made 0700 when created, and tightened to 0700 when others could enter it; a private one is left alone", () => {
    const base = mkdtempSync(path.join(tmpdir(), "ph-private-"));
    const fresh = path.join(base, "a", "b");
    expect(ensurePrivateDataDir(fresh)).toEqual({});
    expect(modeOf(fresh)).toBe(0o700);

    const open = path.join(base, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    expect(openToOthers(open)).toEqual({ mode: 0o755 });
    expect(ensurePrivateDataDir(open)).toEqual({ tightenedFrom: 0o755 });
    expect(modeOf(open)).toBe(0o700);
    expect(openToOthers(open)).toBeUndefined();

    const own = path.join(base, "own");
    mkdirSync(own);
    chmodSync(own, 0o700);
    expect(ensurePrivateDataDir(own)).toEqual({});
  });

  it("an agent started on an open data directory runs with it private, its store inside", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-private-agent-"));
    chmodSync(dataDir, 0o777);
    const agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100" }, dataDir), { logger: silentLogger(), rules: [] });
    try {
      expect(modeOf(dataDir)).toBe(0o700);
      expect(statSync(path.join(dataDir, "store")).isDirectory()).toBe(true);
    } finally {
      await agent.stop();
    }
  });
});
