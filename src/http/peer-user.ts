/**
 * Loopback is shared by every user of a machine: without API_TOKEN any of them could run commands
 * as the agent's user through its API. On Linux the kernel says which user holds each TCP socket
 * (/proc/net/tcp and tcp6, the `uid` column), so a connection from 127.0.0.1 can be traced to its
 * client's socket — local port = the client's port, remote port = ours — and so to its user. Without
 * a token, only the agent's own user (and root, who could read its data anyway) is answered.
 *
 * Looked up once per connection (keep-alive connections are reused). Where /proc/net/tcp cannot be
 * read (another OS, a sandbox without it) the check is off, and `ph-tasks doctor` still warns about
 * other login users; a connection that cannot be found there is refused.
 */
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import type { RequestHandler } from "express";

const ESTABLISHED = "01";
const TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];

/** Whether this machine can say who holds a socket. */
export function peerUsersKnown(): boolean {
  try {
    readFileSync(TABLES[0] ?? "", "utf8");
    return true;
  } catch {
    return false;
  }
}

/** The uid holding the established socket from `clientPort` to `serverPort`, in a /proc/net/tcp* text. */
export function socketOwner(table: string, clientPort: number, serverPort: number): number | undefined {
  for (const line of table.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const [, local, remote, state, , , , uid] = fields; // sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid
    if (!local || !remote || state !== ESTABLISHED || uid === undefined) continue;
    if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) !== clientPort) continue;
    if (parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16) !== serverPort) continue;
    return Number(uid);
  }
  return undefined;
}

async function ownerOf(socket: Socket): Promise<number | undefined> {
  const clientPort = socket.remotePort;
  const serverPort = socket.localPort;
  if (clientPort === undefined || serverPort === undefined) return undefined;
  for (const table of TABLES) {
    const text = await readFile(table, "utf8").catch(() => "");
    const uid = socketOwner(text, clientPort, serverPort);
    if (uid !== undefined) return uid;
  }
  return undefined;
}

/**
 * Without API_TOKEN: answers only connections of this process's user (or root). Off with a token,
 * or where sockets' users cannot be known.
 */
export function sameUserOnly(options: { apiToken?: string | undefined; selfUid?: number | undefined; enabled?: boolean }): RequestHandler {
  const selfUid = options.selfUid ?? process.getuid?.();
  if (options.apiToken || selfUid === undefined || !(options.enabled ?? peerUsersKnown())) return (_req, _res, next) => next();
  const owners = new WeakMap<Socket, Promise<number | undefined>>();
  return (req, res, next) => {
    const socket = req.socket;
    let owner = owners.get(socket);
    if (!owner) {
      owner = ownerOf(socket);
      owners.set(socket, owner);
    }
    owner.then(
      (uid) => {
        if (uid === selfUid || uid === 0) return next();
        res.status(403).json({
          error: "forbidden_user",
          message: `without API_TOKEN this agent answers only its own user (uid ${selfUid}); this connection is ${uid === undefined ? "of a user it cannot tell" : `uid ${uid}'s`}. Loopback is shared by all of a machine's users: set API_TOKEN to let others in`,
        });
      },
      next,
    );
  };
}
