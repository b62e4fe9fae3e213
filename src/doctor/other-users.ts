/**
 * Who else can log in to this machine. Loopback is shared by all of a machine's users, so an agent
 * without API_TOKEN lets any of them run commands as the agent's user; `ph-tasks doctor` names them.
 * Read from /etc/passwd: accounts with a uid from 1000 (the usual first human one, not nobody's
 * 65534) and a login shell, other than this process's own.
 */
import { readFileSync } from "node:fs";

const NO_LOGIN = /(nologin|false|sync|halt|shutdown)$/;

export function otherLoginUsers(passwd: string, selfUid: number): string[] {
  const users: string[] = [];
  for (const line of passwd.split("\n")) {
    const [name, , uidText, , , , shell] = line.split(":");
    const uid = Number(uidText);
    if (!name || !Number.isInteger(uid) || uid < 1000 || uid >= 65534 || uid === selfUid) continue;
    if (!shell || NO_LOGIN.test(shell.trim())) continue;
    users.push(name);
  }
  return users;
}

/** This machine's other login users; none where /etc/passwd cannot be read (another OS, a sandbox). */
export function otherLoginUsersHere(): string[] {
  try {
    return otherLoginUsers(readFileSync("/etc/passwd", "utf8"), process.getuid?.() ?? -1);
  } catch {
    return [];
  }
}
