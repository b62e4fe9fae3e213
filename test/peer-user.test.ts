/**
 * Without API_TOKEN the agent answers only its own user: loopback is shared by every user of a
 * machine. The other user here is a real one — a client process started with another uid (which
 * needs this test to run as root, as CI does; otherwise it says so and runs only the parsing test).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { peerUsersKnown, socketOwner } from "../src/http/peer-user.js";
import { silentLogger } from "../src/logger.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { testManager } from "./support/manager.js";
import { servicesRequired } from "./support/stores.js";

/** Another account of this machine to act as (a uid from 1000 in /etc/passwd). */
function anotherUser(): { uid: number; gid: number; name: string } | undefined {
  for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name && Number(uid) >= 1000 && Number(uid) < 65534) return { uid: Number(uid), gid: Number(gid), name };
  }
  return undefined;
}

const isRoot = process.getuid?.() === 0;
const other = anotherUser();
const canActAsOther = isRoot && other !== undefined && peerUsersKnown();
if (!canActAsOther) console.warn(`\n*** peer-user test: needs root, another account and /proc/net/tcp to connect as another user: the cross-user part is SKIPPED.${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);

/** A GET or a POST from a process running as `user`; its status and body. */
function fetchAs(user: { uid: number; gid: number } | undefined, url: string, body?: unknown): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const script = `fetch(process.argv[1], ${body === undefined ? "{}" : `{ method: "POST", headers: { "Content-Type": "application/json" }, body: process.argv[2] }`}).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() })), (e) => { console.error(String(e)); process.exit(1); })`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", script, url, JSON.stringify(body ?? null)], { encoding: "utf8", timeout: 20_000, cwd: "/", ...(user ? { uid: user.uid, gid: user.gid } : {}) }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as { status: number; body: { error?: string; message?: string } }));
  });
}

describe("who may use a token-less agent", () => {
  it("finds a socket's user in the kernel's table by the client's and the server's ports", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
      "   1: 0100007F:0FA0 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1",
      "   2: 0100007F:C350 0100007F:0FA0 01 00000000:00000000 00:00000000 00000000  1000        0 3 1",
      "   3: 0100007F:C351 0100007F:0FA0 06 00000000:00000000 00:00000000 00000000  1001        0 4 1",
    ].join("\n");
    // Client port 50000 (C350) to server port 4000 (0FA0): the client's socket, not the server's accepted one.
    expect(socketOwner(table, 50_000, 4000)).toBe(1000);
    expect(socketOwner(table, 50_001, 4000)).toBeUndefined(); // TIME_WAIT, not established
    expect(socketOwner(table, 4000, 50_000)).toBe(0);
  });

  it("has another user to act as when the run requires it", () => {
    if (servicesRequired) expect(canActAsOther, "root, another account in /etc/passwd and /proc/net/tcp").toBe(true);
    else expect(typeof canActAsOther).toBe("boolean");
  });

  describe.skipIf(!canActAsOther)("another user of this machine", () => {
    let store: TaskStore;
    let manager: TaskManager;
    let server: Server;
    let url: string;
    beforeEach(async () => {
      store = await TaskStore.open({});
      manager = testManager(store);
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await manager.stop(0);
      await store.close();
    });

    it("without API_TOKEN is refused — reading or creating — and nothing is stored; the agent's own user is answered", async () => {
      ({ server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger() }), "127.0.0.1", 0, undefined));
      const task = { type: "cli", title: "from another user", command: "touch", args: ["/tmp/ph-other-user-ran"] };
      const created = await fetchAs(other, `${url}/api/tasks`, task);
      expect(created.status).toBe(403);
      expect(created.body.error).toBe("forbidden_user");
      expect(created.body.message).toContain(`uid ${other!.uid}'s`);
      expect(created.body.message).toContain("set API_TOKEN");
      expect((await fetchAs(other, `${url}/api/tasks`)).status).toBe(403);
      expect((await fetchAs(other, `${url}/healthz`)).status).toBe(200);
      expect((await manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(0);
      // The agent's own user (this process's, in a child process like any client).
      expect((await fetchAs(undefined, `${url}/api/tasks`)).status).toBe(200);
    });

    it("with API_TOKEN the token decides, whoever connects", async () => {
      const token = "peer-token-0123456789abcdef";
      ({ server, url } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: token }), "127.0.0.1", 0, token));
      expect((await fetchAs(other, `${url}/api/tasks`)).status).toBe(401);
    });
  });
});
