/**
 * Allow-list entries that let a task run anything: which are (a shell or interpreter left open, a
 * runner with no program named, a program whose exec option may come anywhere) and which are not
 * (pinned to a script, a sub-command or a program; programs that run nothing else); and the agent
 * says so at start.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { describeOpenEnded, openEndedEntries } from "../src/security/open-ended-entries.js";

const open = (list: string[]) => openEndedEntries(list).map((e) => e.entry);

describe("open-ended allow-list entries", () => {
  it("a bare shell, interpreter or package runner is open; pinned to a script or sub-command it is not; pinned up to its code flag it still is", () => {
    expect(open(["bash", "/usr/bin/python3", "npx", "git", "make"])).toEqual(["bash", "/usr/bin/python3", "npx", "git", "make"]);
    expect(open(["bash ./scripts/build.sh", "python3 tools/report.py", "npm test", "git status", "make dist", "node server.js"])).toEqual([]);
    expect(open(["bash -c", "node -e", "npm exec", "python3 -c", "git -c"])).toEqual(["bash -c", "node -e", "npm exec", "python3 -c", "git -c"]);
  });

  it("a runner is open until a pinned argument names its program; find, tar, rsync and the like are open however pinned", () => {
    expect(open(["env", "env FOO=1", "timeout 60", "timeout 5m", "sudo -n", "xargs -0"])).toEqual(["env", "env FOO=1", "timeout 60", "timeout 5m", "sudo -n", "xargs -0"]);
    expect(open(["env FOO=1 make", "timeout 60 make test", "sudo -u build make"])).toEqual([]);
    expect(open(["find .", "tar czf out.tgz", "rsync -a", "awk {print}"])).toEqual(["find .", "tar czf out.tgz", "rsync -a", "awk {print}"]);
  });

  it("programs that run nothing else are not named; the description names each open entry, how, and the way round", () => {
    expect(open(["echo", "ls", "cat", "/bin/date", "jq", "grep"])).toEqual([]);
    const text = describeOpenEnded(openEndedEntries(["echo", "bash", "find ."]));
    expect(text).toBe("TASK_COMMAND_ALLOWLIST lets a task run anything through 'bash' (-c runs any shell code), 'find .' (-exec runs any program): pin the arguments to a script or sub-command ('bash ./scripts/build.sh', 'npm test'), or list the programs themselves");
  });
});

describe("an agent whose allow-list has an open-ended entry", () => {
  it("starts, and says so in its log at start, naming the entry", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-open-ended-"));
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(line) } });
    const agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", TASK_SHUTDOWN_GRACE_MS: "100", TASK_COMMAND_ALLOWLIST: "echo,bash" }, dataDir), { logger, rules: [] });
    try {
      const warned = lines.map((line) => JSON.parse(line) as { level: number; msg: string; entries?: string[] }).find((l) => l.msg.startsWith("TASK_COMMAND_ALLOWLIST lets a task run anything"));
      expect(warned).toMatchObject({ level: 40, entries: ["bash"] });
      expect(warned?.msg).toContain("'bash' (-c runs any shell code)");
    } finally {
      await agent.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
