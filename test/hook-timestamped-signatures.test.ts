/**
 * Inbound hooks and timestamped signatures (Standard Webhooks), over real HTTP on PGlite and
 * PostgreSQL, signed by the scheme's own library (`standardwebhooks`): a delivery it signs makes a
 * task; a captured one sent again is the same delivery (no second task), with another id it does
 * not verify, and later than five minutes it is refused as stale. A hook set to timestamped
 * signatures only refuses GitHub's body-only one, which cannot tell a replay from a new delivery.
 * A secret rotated with a grace period: the old one is accepted beside the new until then.
 */
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signBody } from "../src/hooks/hook-receiver.js";
import { BACKENDS } from "./support/stores.js";
import { HOOK_API_TOKEN, startHookAgent, stopHookAgent, type HookAgent } from "./support/hook-agent.js";

const TOKEN = HOOK_API_TOKEN;
const TASK = { type: "cli", title: "build {{body.ref}}", command: "echo", args: ["{{body.ref}}"] };

type Agent = HookAgent;

const api = (agent: Agent, path: string, init: RequestInit = {}) =>
  fetch(`${agent.url}${path}`, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...init.headers } });

async function createHook(agent: Agent, body: Record<string, unknown>): Promise<{ secret: string; signing: string }> {
  const res = await api(agent, "/api/hooks", { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { hook: { secret: string; signing: string } }).hook;
}

/** The headers Standard Webhooks' own library makes for `body` with `id` at `at`. */
function standardHeaders(secret: string, id: string, body: string, at = new Date()): Record<string, string> {
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, at, body) };
}

async function deliver(agent: Agent, name: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${agent.url}/hooks/${name}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
  return { status: res.status, json: (await res.json()) as { task?: { id: string }; created?: boolean; message?: string } };
}

for (const backend of BACKENDS.filter((b) => b.name !== "postgres-async-commit")) {
  describe.skipIf(!backend.available)(`timestamped hook signatures on ${backend.name}`, () => {
    let agent: Agent;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const opened = await backend.open();
      agent = await startHookAgent(opened.store);
      cleanup = async () => {
        await stopHookAgent(agent);
        await opened.cleanup();
      };
    });
    afterEach(() => cleanup());

    it("a delivery signed by the Standard Webhooks library makes a task; replayed it is the same delivery; with another id, stale or from the future it is refused", async () => {
      const hook = await createHook(agent, { name: "builds", task: TASK });
      expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(hook.signing).toBe("any");
      const body = JSON.stringify({ ref: "v2" });
      const headers = standardHeaders(hook.secret, "msg_2Lq1", body);

      const first = await deliver(agent, "builds", body, headers);
      expect(first.status).toBe(202);
      expect(await agent.manager.getTask(first.json.task!.id)).toMatchObject({ title: "build v2", args: ["v2"], source: { origin: "hook:builds" } });
      // The same captured delivery again: the signed id is its idempotency key.
      const replay = await deliver(agent, "builds", body, headers);
      expect(replay).toMatchObject({ status: 200, json: { task: { id: first.json.task!.id }, created: false } });
      // The same signature under a new id: the id is signed, so it does not verify.
      const renamed = await deliver(agent, "builds", body, { ...headers, "webhook-id": "msg_other" });
      expect(renamed.status).toBe(401);
      expect(renamed.json.message).toMatch(/no v1 signature in the webhook-signature header matches/);
      // Signed six minutes ago (a replay after the dedupe could have been cleaned up, or a delayed one).
      const stale = await deliver(agent, "builds", body, standardHeaders(hook.secret, "msg_old", body, new Date(Date.now() - 6 * 60_000)));
      expect(stale.status).toBe(401);
      expect(stale.json.message).toMatch(/^the webhook-timestamp \d+ is 3[56]\d s old; at most 300 s either way/);
      const future = await deliver(agent, "builds", body, standardHeaders(hook.secret, "msg_new", body, new Date(Date.now() + 6 * 60_000)));
      expect(future.json.message).toMatch(/s in the future/);
      const noId = await deliver(agent, "builds", body, { ...headers, "webhook-id": "" });
      expect(noId.json.message).toMatch(/needs a webhook-id header/);
      const badTime = await deliver(agent, "builds", body, { ...headers, "webhook-timestamp": "yesterday" });
      expect(badTime.json.message).toBe("the webhook-timestamp header must be the signing time in Unix seconds; got 'yesterday'");
      // Hostile forms of the headers: refused with the reason, nothing made.
      for (const [timestamp, why] of [["-5", /must be the signing time in Unix seconds; got '-5'/], ["1e9", /got '1e9'/], ["9".repeat(13), /got '9{13}'/], ["999999999999", /s in the future/]] as const) {
        expect((await deliver(agent, "builds", body, { ...headers, "webhook-timestamp": timestamp })).json.message).toMatch(why);
      }
      const many = Array.from({ length: 500 }, (_, i) => `v1,${Buffer.from(`bogus-${i}`).toString("base64")}`).join(" ");
      expect((await deliver(agent, "builds", body, { ...headers, "webhook-signature": many })).status).toBe(401);
      expect((await deliver(agent, "builds", body, { ...headers, "webhook-signature": `v2,${headers["webhook-signature"]!.slice(3)}` })).status).toBe(401);
      // A timestamped signature that fails is not rescued by a good body-only one beside it.
      const both = await deliver(agent, "builds", body, { ...headers, "webhook-id": "msg_other", "X-Signature-256": signBody(hook.secret, body) });
      expect(both.status).toBe(401);
      expect((await agent.manager.listTasks({ limit: 10, offset: 0 })).tasks).toHaveLength(1);
      const row = (await (await api(agent, "/api/hooks/builds")).json()) as { hook: { receivedCount: number; rejectedCount: number } };
      expect(row.hook).toMatchObject({ receivedCount: 2, rejectedCount: 12 }); // the replay counts as received (a duplicate)
    });

    it("a hook that takes timestamped signatures only refuses the body-only one; the setting is named when wrong and can be switched", async () => {
      const hook = await createHook(agent, { name: "strict", task: TASK, signing: "timestamped" });
      expect(hook.signing).toBe("timestamped");
      const body = JSON.stringify({ ref: "main" });
      const bodyOnly = await deliver(agent, "strict", body, { "X-Signature-256": signBody(hook.secret, body), "X-GitHub-Delivery": "d-1" });
      expect(bodyOnly.status).toBe(401);
      expect(bodyOnly.json.message).toMatch(/^this hook takes timestamped signatures only \(Standard Webhooks/);
      expect((await deliver(agent, "strict", body, standardHeaders(hook.secret, "msg_1", body))).status).toBe(202);

      const bad = await api(agent, "/api/hooks/strict", { method: "PATCH", body: JSON.stringify({ signing: "sometimes" }) });
      expect(bad.status).toBe(400);
      const { errors } = (await bad.json()) as { errors: { field: string; message: string }[] };
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ field: "signing" });
      expect(errors[0]!.message).toMatch(/any.*timestamped/);

      expect((await api(agent, "/api/hooks/strict", { method: "PATCH", body: JSON.stringify({ signing: "any" }) })).status).toBe(200);
      expect((await deliver(agent, "strict", body, { "X-Signature-256": signBody(hook.secret, body), "X-GitHub-Delivery": "d-1" })).status).toBe(202);
      // A secret of the operator's own (not in the scheme's whsec_ form) signs with its text as the key.
      const own = await createHook(agent, { name: "own-secret", task: TASK, secret: "plain-text-secret-of-mine" });
      const ownKey = `whsec_${Buffer.from(own.secret).toString("base64")}`;
      expect((await deliver(agent, "own-secret", body, standardHeaders(ownKey, "msg_own", body))).status).toBe(202);
    });

    it("a secret rotated with a grace period: the old one still signs deliveries (either scheme) until then, the new one at once; a grace without a rotation is named", async () => {
      const hook = await createHook(agent, { name: "rotating", task: TASK });
      const body = JSON.stringify({ ref: "r" });
      const rotated = await api(agent, "/api/hooks/rotating", { method: "PATCH", body: JSON.stringify({ rotateSecret: true, graceMs: 3_600_000 }) });
      expect(rotated.status).toBe(200);
      const next = ((await rotated.json()) as { hook: { secret: string; previousSecretUntil: string } }).hook;
      expect(next.secret).not.toBe(hook.secret);
      expect(Date.parse(next.previousSecretUntil) - Date.now()).toBeGreaterThan(3_500_000);
      expect((await deliver(agent, "rotating", body, standardHeaders(hook.secret, "msg_old_secret", body))).status).toBe(202);
      expect((await deliver(agent, "rotating", body, { "X-Signature-256": signBody(hook.secret, body) })).status).toBe(202);
      expect((await deliver(agent, "rotating", body, standardHeaders(next.secret, "msg_new_secret", body))).status).toBe(202);
      // The grace period over (moved into the past here), the old secret is refused.
      await agent.store.db.query("UPDATE ph_hooks SET previous_secret_until = now() - interval '1 second' WHERE name = 'rotating'");
      expect((await deliver(agent, "rotating", body, standardHeaders(hook.secret, "msg_late", body))).status).toBe(401);
      expect((await deliver(agent, "rotating", body, { "X-Signature-256": signBody(hook.secret, body) })).status).toBe(401);
      expect(((await (await api(agent, "/api/hooks/rotating")).json()) as { hook: { previousSecretUntil: string | null } }).hook.previousSecretUntil).toBeNull();
      // Rotated again without a grace period: the secret of a moment ago stops at once.
      const again = ((await (await api(agent, "/api/hooks/rotating", { method: "PATCH", body: JSON.stringify({ rotateSecret: true }) })).json()) as { hook: { secret: string; previousSecretUntil: string | null } }).hook;
      expect(again.previousSecretUntil).toBeNull();
      expect((await deliver(agent, "rotating", body, { "X-Signature-256": signBody(next.secret, body) })).status).toBe(401);

      const lone = await api(agent, "/api/hooks/rotating", { method: "PATCH", body: JSON.stringify({ graceMs: 60_000 }) });
      expect(lone.status).toBe(400);
      expect(((await lone.json()) as { errors: unknown[] }).errors).toEqual([{ field: "graceMs", value: "60000", message: "only goes with rotateSecret: true (how long the secret being replaced stays valid)" }]);
      const long = await api(agent, "/api/hooks/rotating", { method: "PATCH", body: JSON.stringify({ rotateSecret: true, graceMs: 8 * 86_400_000 }) });
      expect(long.status).toBe(400);
      expect(((await long.json()) as { errors: { field: string; message: string }[] }).errors[0]).toMatchObject({ field: "graceMs", message: "must be at most 604800000 ms (a week)" });
    });
  });
}
