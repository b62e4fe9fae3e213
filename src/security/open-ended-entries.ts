/**
 * Allow-list entries that allow everything. TASK_COMMAND_ALLOWLIST exists so that whoever can write
 * a document runs only what the operator chose; an entry for a shell, an interpreter or another
 * program that runs what its arguments name (`bash`, `python3`, `env`, `npx`, `find`) undoes that
 * when its arguments are open — `bash -c '<anything>'`. Such an entry is legal (an operator may
 * mean it), so it is a warning at start and in `ph-tasks doctor`, naming the entry and the way
 * round, not a refusal.
 *
 * When an entry is open depends on the program (PROGRAMS below). The list is of well-known programs,
 * not a proof: a program not on it may run others too (the README says so).
 */
import path from "node:path";
import { parseAllowlist } from "../tasks/executors/command-allowlist.js";

/**
 * How a program runs what its arguments name, and so when an entry for it stays open:
 * - "code" (shells, interpreters, package runners, git, make): bare, or pinned up to the flag that
 *   takes code ("bash -c"); "bash ./build.sh", "npm test", "git status" are not open;
 * - "runner" (env, sudo, timeout, xargs…): until a pinned argument names the program it runs
 *   ("timeout 60 make" is not open; "env FOO=1" is);
 * - "anywhere" (find, tar, rsync, ssh, docker, awk): the option that runs a program may come after
 *   any pinned arguments, so the entry is open however it is pinned.
 */
type Kind = "code" | "runner" | "anywhere";
const PROGRAMS: Readonly<Record<string, [Kind, string]>> = {
  sh: ["code", "-c runs any shell code"], bash: ["code", "-c runs any shell code"], dash: ["code", "-c runs any shell code"], zsh: ["code", "-c runs any shell code"], ksh: ["code", "-c runs any shell code"], fish: ["code", "-c runs any shell code"],
  node: ["code", "-e runs any JavaScript"], deno: ["code", "eval runs any JavaScript"], bun: ["code", "-e runs any JavaScript"], python: ["code", "-c runs any Python"], python3: ["code", "-c runs any Python"], perl: ["code", "-e runs any Perl"], ruby: ["code", "-e runs any Ruby"], php: ["code", "-r runs any PHP"], lua: ["code", "-e runs any Lua"],
  npm: ["code", "exec runs any package's program"], pnpm: ["code", "exec and dlx run any program"], yarn: ["code", "exec and dlx run any program"], git: ["code", "-c core.sshCommand=… and aliases run any program"], make: ["code", "--eval and -f run any recipe"],
  env: ["runner", "runs the program its arguments name"], sudo: ["runner", "runs the program its arguments name"], doas: ["runner", "runs the program its arguments name"], su: ["code", "-c runs any shell code"], xargs: ["runner", "runs the program its arguments name"], nice: ["runner", "runs the program its arguments name"], nohup: ["runner", "runs the program its arguments name"], timeout: ["runner", "runs the program its arguments name"], setsid: ["runner", "runs the program its arguments name"], stdbuf: ["runner", "runs the program its arguments name"], time: ["runner", "runs the program its arguments name"], strace: ["runner", "runs the program its arguments name"], chroot: ["runner", "runs the program its arguments name"], watch: ["runner", "runs any shell code"], npx: ["runner", "runs any package's program"], busybox: ["runner", "runs any of its applets, sh among them"],
  find: ["anywhere", "-exec runs any program"], tar: ["anywhere", "--to-command and --checkpoint-action run any program"], rsync: ["anywhere", "-e runs any program"], ssh: ["anywhere", "runs any command, and ProxyCommand here"], docker: ["anywhere", "runs any container, with the host's files if asked"], awk: ["anywhere", "system() runs any shell code"], gawk: ["anywhere", "system() runs any shell code"],
};

/** Pinned arguments after which the rest is code (the entry stays open). */
const CODE_FLAGS = new Set(["-c", "-e", "-E", "-r", "-p", "--eval", "--print", "--command", "eval", "exec", "x", "dlx"]);

/** A runner's argument that does not name the program it runs: an option, NAME=VALUE, a number or duration. */
const isRunnerSetting = (arg: string): boolean => arg.startsWith("-") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(arg) || /^\d+(\.\d+)?[smhd]?$/.test(arg);

function isOpen(kind: Kind, leadingArgs: readonly string[]): boolean {
  if (kind === "anywhere") return true;
  if (kind === "runner") return leadingArgs.every(isRunnerSetting);
  const last = leadingArgs.at(-1);
  return last === undefined || CODE_FLAGS.has(last);
}

export interface OpenEndedEntry {
  entry: string;
  why: string;
}

/** The entries of an allow-list that let a task run anything. */
export function openEndedEntries(allowlist: readonly string[]): OpenEndedEntry[] {
  return parseAllowlist(allowlist).flatMap(({ entry, program, leadingArgs }) => {
    const known = PROGRAMS[path.basename(program)];
    return known && isOpen(known[0], leadingArgs) ? [{ entry, why: known[1] }] : [];
  });
}

/** One line for a log or the doctor: what is open and what to do. */
export function describeOpenEnded(entries: readonly OpenEndedEntry[]): string {
  const named = entries.map((e) => `'${e.entry}' (${e.why})`).join(", ");
  return `TASK_COMMAND_ALLOWLIST lets a task run anything through ${named}: pin the arguments to a script or sub-command ('bash ./scripts/build.sh', 'npm test'), or list the programs themselves`;
}
