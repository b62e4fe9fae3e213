/**
 * Allow-list entries that let a task run anything: which are (a shell or interpreter left open, a
 * runner with no program named, a program whose exec option may come anywhere) and which are not
 * (pinned to a script, a sub-command or a program; programs that run nothing else).
 */
import { describe, expect, it } from "vitest";
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
