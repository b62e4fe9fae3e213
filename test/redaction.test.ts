import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSecrets, MIN_SECRET_LENGTH, REDACTED, Redactor } from "../src/security/redactor.js";
import { loadConfig } from "../src/config.js";
import type { TaskStore } from "../src/store/task-store.js";
import { WebhookStore } from "../src/store/webhook-store.js";
import type { OutputChunk } from "../src/tasks/types.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";

const SECRET = "sk-ant-agent-secret-0123456789";

describe("Redactor", () => {
  it("never lets a secret through a stream, wherever the chunks split it", () => {
    const redactor = new Redactor([SECRET, "token-abcdefgh"]);
    const text = `key=${SECRET}\nagain ${SECRET}${SECRET} and token-abcdefgh, sk-ant-agent-secret-01 is only a prefix`;
    const expected = text.split(SECRET).join(REDACTED).split("token-abcdefgh").join(REDACTED);
    for (let cut = 0; cut <= text.length; cut++) {
      const stream = redactor.stream();
      const shown = stream.push(text.slice(0, cut)) + stream.push(text.slice(cut)) + stream.end();
      expect(shown).toBe(expected);
    }
    // One character at a time: nothing is emitted that later turns out to be part of a secret.
    const stream = redactor.stream();
    let shown = "";
    for (const char of text) shown += stream.push(char);
    shown += stream.end();
    expect(shown).toBe(expected);
  });

  it("redacts every string of a JSON value, keys included, and ignores values too short to be secrets", () => {
    const redactor = new Redactor([SECRET, "short"]);
    expect(redactor.json({ [SECRET]: [1, `x${SECRET}`, { y: SECRET }], short: "short" })).toEqual({ [REDACTED]: [1, `x${REDACTED}`, { y: REDACTED }], short: "short" });
    expect("short".length).toBeLessThan(MIN_SECRET_LENGTH);
  });

  it("finds a secret URL-encoded, JSON-escaped, in hex and in base64 at any alignment, also split across chunks", () => {
    const secret = 'p@ss/w0rd+"tok=en"\\:ü';
    const redactor = new Redactor([secret]);
    const bytes = Buffer.from(secret);
    const encoded = [
      `curl https://api.test/?token=${encodeURIComponent(secret)}&x=1`,
      `{"token":${JSON.stringify(secret)}}`,
      `hex ${bytes.toString("hex")} HEX ${bytes.toString("hex").toUpperCase()}`,
      ...["", "a", "ab", "abc"].map((prefix) => `Authorization: Basic ${Buffer.from(`${prefix}user:${secret}`).toString("base64")}`),
      ...["", "a", "ab"].map((prefix) => `jwt ${Buffer.from(`${prefix}${secret}{}`).toString("base64url")}.sig`),
    ];
    for (const text of encoded) {
      const shown = redactor.text(text);
      expect(shown, text).toContain(REDACTED);
      // What is left decodes to no more than a byte or two of the secret.
      for (const piece of shown.split(REDACTED)) {
        const decoded = [Buffer.from(piece.replace(/^.*\s/, ""), "base64").toString("latin1"), Buffer.from(piece.replace(/^.*\s/, ""), "base64url").toString("latin1"), decodeURIComponent(piece.replace(/%(?![0-9A-F]{2})/g, "")), Buffer.from(piece.replace(/^.*\s/, ""), "hex").toString("latin1")];
        for (const d of decoded) expect(d.includes("w0rd") || d.includes("tok=en"), `${piece} in ${shown}`).toBe(false);
      }
      const stream = redactor.stream();
      let streamed = "";
      for (const char of text) streamed += stream.push(char);
      expect(streamed + stream.end()).toBe(shown);
    }
    // Without the secret configured the same texts pass unchanged (the test can fail).
    for (const text of encoded) expect(new Redactor([]).text(text)).toBe(text);
    expect(redactor.text("an ordinary line of output, nothing to hide")).toBe("an ordinary line of output, nothing to hide");
  });

  it("knows the agent's secrets from its configuration, the database password and the named users' and readers' tokens included", () => {
    const config = loadConfig({ ANTHROPIC_API_KEY: SECRET, API_TOKEN: "api-token-0123456789", API_USERS: "alice=alice-token-0123456789", API_READERS: "bob=bob-reads-token-0123456789", CLAUDE_AGENT_MCP_CREDENTIALS: '{"hub":"mcp-token-0123456789"}', DATABASE_URL: "postgres://u:db%2Fpassword-0123@db.example:5432/x" });
    expect(agentSecrets(config).sort()).toEqual(["alice-token-0123456789", "bob-reads-token-0123456789", "api-token-0123456789", "db/password-0123", "mcp-token-0123456789", SECRET].sort());
  });
});

const backend = BACKENDS[0];
if (!backend) throw new Error("no test backend");

describe(`a task that prints the agent's secrets (${backend.name})`, () => {
  let store: TaskStore;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await backend.open());
    // A webhook on every failure: what leaves the agent that way must be redacted too.
    await new WebhookStore(store.db).insert("leak-watch", { name: "leak-watch", url: "http://127.0.0.1:1/unused", secret: "0123456789abcdef", events: ["failed"], task_type: null, drive_id: null, enabled: true });
  });
  afterAll(async () => {
    await cleanup();
  });

  /** Runs a CLI task that prints the secret (given to it in its own environment) on both streams, then fails. */
  async function leak(secrets: string[]) {
    const manager = testManager(store, { secrets }, cliRegistry(tmpdir()));
    const chunks: OutputChunk[] = [];
    manager.on("output", (_task, chunk) => chunks.push(chunk));
    await manager.start();
    const script = 'printf "%s" "$K" | head -c 10; sleep 0.2; printf "%s\\n" "$K" | tail -c +11; printf "err %s\\n" "$K" >&2; exit 3';
    const { task } = await manager.enqueueTask({ type: "cli", title: "leak", command: "sh", args: ["-c", script], environment: { K: SECRET }, maxAttempts: 1 });
    const done = await waitFor(async () => {
      const t = await manager.getTask(task.id);
      return t && t.status === "failed" ? t : undefined;
    }, 20_000, "the task to fail");
    await manager.flushOutput();
    await manager.stop(0); // the next test's task must not run on this manager
    const stored = (await manager.getEvents(task.id)).map((e) => e.data).join("");
    const live = chunks.map((c) => c.data).join("");
    const stream = (name: string) => chunks.filter((c) => c.stream === name).map((c) => c.data).join("");
    const { rows } = await store.db.query<{ payload: string }>("SELECT payload::text AS payload FROM ph_webhook_deliveries WHERE task_id = $1", [task.id]);
    expect(rows).toHaveLength(1);
    const webhook = rows[0]?.payload ?? "";
    return { everything: JSON.stringify({ result: done.result, error: done.error }) + stored + live + webhook, live, webhook, stdout: stream("stdout"), stderr: stream("stderr") };
  }

  it("shows the value where no secret is configured (so the next test can fail)", async () => {
    const { everything, live, webhook } = await leak([]);
    expect(everything).toContain(SECRET);
    expect(live).toContain(SECRET);
    expect(webhook).toContain(SECRET);
  });

  it("stores, emits, returns and sends to webhooks [REDACTED] instead, also when the secret is split across output chunks", async () => {
    const { everything, stdout, stderr } = await leak([SECRET]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(SECRET.slice(10)); // the second half of the split print
    expect(stdout).toBe(`${REDACTED}\n`);
    expect(stderr).toBe(`err ${REDACTED}\n`);
  });
});
