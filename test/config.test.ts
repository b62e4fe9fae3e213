import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseDuration } from "../src/config.js";
import { renderEnvExample, replaceConfigTable } from "../src/config-docs.js";
import { managerSettingsFromConfig } from "../src/tasks/manager-settings.js";

describe("configuration", () => {
  const errorsOf = (env: Record<string, string>) => { try { loadConfig(env); return []; } catch (error) { return (error as ConfigError).errors; } };
  it("has the seed's defaults", () => {
    const config = loadConfig({}, "/srv/agent");
    expect(config).toMatchObject({ TASK_MAX_CONCURRENT: 5, TASK_TIMEOUT_MS: 300000, TASK_RETRY_ATTEMPTS: 3, MCP_SERVER_URL: "http://localhost:4001", TASK_MAX_PER_DOCUMENT: 1, TASK_MAX_PER_DRIVE: 3, PORT: 4000, HOST: "127.0.0.1" });
    expect(config.dataDir).toBe("/srv/agent/.ph-tasks");
    expect(config.allowedRoots).toEqual(["/srv/agent"]);
    expect(config.TASK_RESULT_TTL).toBe(7 * 86_400_000);
  });

  it("names every bad variable, the value given and what is allowed", () => {
    let error: unknown;
    try {
      loadConfig({ TASK_MAX_CONCURRENT: "lots", TASK_TIMEOUT_MS: "-5", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const errors = (error as ConfigError).errors;
    expect(errors.map((e) => e.field).sort()).toEqual(["DATABASE_URL", "LOG_LEVEL", "TASK_MAX_CONCURRENT", "TASK_TIMEOUT_MS"]);
    const concurrent = errors.find((e) => e.field === "TASK_MAX_CONCURRENT");
    expect(concurrent?.value).toBe('"lots"');
    expect(concurrent?.message).toMatch(/whole number between 1 and 1000/);
    expect((error as Error).message).toContain('TASK_TIMEOUT_MS: must be a duration');
    expect((error as Error).message).toContain("postgres://");
  });

  it("reads durations with units and lists", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("abc")).toBeUndefined();
    const config = loadConfig({ TASK_RESULT_TTL: "2d", TASK_ALLOWED_ROOTS: "/a, /b ,", TASK_COMMAND_ALLOWLIST: "echo,git" }, "/");
    expect(config.TASK_RESULT_TTL).toBe(2 * 86_400_000);
    expect(config.allowedRoots).toEqual(["/a", "/b"]);
    expect(config.TASK_COMMAND_ALLOWLIST).toEqual(["echo", "git"]);
  });

  it("prefetches twice TASK_MAX_CONCURRENT unless TASK_PREFETCH says otherwise (0: off)", () => {
    expect(managerSettingsFromConfig(loadConfig({ TASK_MAX_CONCURRENT: "4" })).prefetch).toBe(8);
    expect(managerSettingsFromConfig(loadConfig({ TASK_MAX_CONCURRENT: "4", TASK_PREFETCH: "0" })).prefetch).toBe(0);
    expect(() => loadConfig({ TASK_PREFETCH: "-1" })).toThrow(/TASK_PREFETCH: must be at least 0 \(got "-1"\)/);
  });

  it("reads the webhook URL allow-list, refusing an entry that is no http(s) URL", () => {
    expect(loadConfig({ TASK_WEBHOOK_URL_ALLOWLIST: "https://ci.example.com/ph/, http://127.0.0.1:4000" }, "/").TASK_WEBHOOK_URL_ALLOWLIST).toEqual(["https://ci.example.com/ph/", "http://127.0.0.1:4000"]);
    expect(() => loadConfig({ TASK_WEBHOOK_URL_ALLOWLIST: "https://ok.example.com,ci.example.com" }, "/")).toThrow(/TASK_WEBHOOK_URL_ALLOWLIST: each entry must be an http or https URL/);
  });

  it("refuses a retry cap below the retry base", () => {
    expect(() => loadConfig({ TASK_RETRY_BASE_MS: "10s", TASK_RETRY_MAX_MS: "1s" })).toThrow(/TASK_RETRY_MAX_MS/);
  });

  it("API_READ_TOKEN needs API_TOKEN and must differ from it; neither token is echoed in an error", () => {
    expect(errorsOf({ API_READ_TOKEN: "read-token-0123456789" })).toEqual([{ field: "API_READ_TOKEN", value: "(hidden)", message: "needs API_TOKEN: without it the API is open to everyone, and a read-only token means nothing" }]);
    expect(errorsOf({ API_TOKEN: "same-token-0123456789", API_READ_TOKEN: "same-token-0123456789" })).toEqual([{ field: "API_READ_TOKEN", value: "(hidden)", message: "must differ from API_TOKEN (which may do everything)" }]);
    expect(errorsOf({ API_TOKEN: "short-secret", API_READ_TOKEN: "short-too" })).toEqual([
      { field: "API_TOKEN", value: "(hidden)", message: "must be at least 16 characters" },
      { field: "API_READ_TOKEN", value: "(hidden)", message: "must be at least 16 characters" },
    ]);
    expect(loadConfig({ API_TOKEN: "full-token-0123456789", API_READ_TOKEN: "read-token-0123456789" }).API_READ_TOKEN).toBe("read-token-0123456789");
  });

  it("a synced drive needs a writer list, or an explicit TASK_ALLOW_ANY_WRITER=true", () => {
    const remote = "https://switchboard.example.com/d/team";
    expect(errorsOf({ REMOTE_DRIVE_URL: remote })).toEqual([
      {
        field: "REMOTE_DRIVE_URL",
        value: JSON.stringify(remote),
        message: "is set but TASK_AUTHORIZED_WRITERS is empty: anyone who can write that drive could start tasks on this machine (programs, Claude with its API key); list the app keys that may in TASK_AUTHORIZED_WRITERS, or set TASK_ALLOW_ANY_WRITER=true to accept that",
      },
    ]);
    expect(errorsOf({ REMOTE_DRIVE_URL: remote, TASK_ALLOW_ANY_WRITER: "false" })).toHaveLength(1);
    expect(loadConfig({ REMOTE_DRIVE_URL: remote, TASK_ALLOW_ANY_WRITER: "true" }).REMOTE_DRIVE_URL).toBe(remote);
    const key = "04" + "11".repeat(64);
    expect(loadConfig({ REMOTE_DRIVE_URL: remote, TASK_AUTHORIZED_WRITERS: key }).TASK_AUTHORIZED_WRITERS).toHaveLength(1);
    // The local drive alone is written through this agent only (its API, its /mcp).
    expect(loadConfig({}).TASK_ALLOW_ANY_WRITER).toBe(false);
  });

  it("reads allow-list entries with leading arguments, and variable names or prefixes for the environment", () => {
    const config = loadConfig({ TASK_COMMAND_ALLOWLIST: "git status, make  test ,/usr/bin/ls", TASK_ENV_ALLOWLIST: "MYAPP_*, TZ" });
    expect(config.TASK_COMMAND_ALLOWLIST).toEqual(["git status", "make  test", "/usr/bin/ls"]);
    expect(config.TASK_ENV_ALLOWLIST).toEqual(["MYAPP_*", "TZ"]);
    expect(loadConfig({ TASK_ENV_ALLOWLIST: "*" }).TASK_ENV_ALLOWLIST).toEqual(["*"]);
    expect(errorsOf({ TASK_ENV_ALLOWLIST: "OK,BAD-NAME,A*B" })).toEqual([
      { field: "TASK_ENV_ALLOWLIST", value: '"OK,BAD-NAME,A*B"', message: "each entry must be a variable name (letters, digits, '_'), a prefix ending in * like MYAPP_*, or * for any" },
      { field: "TASK_ENV_ALLOWLIST", value: '"OK,BAD-NAME,A*B"', message: "each entry must be a variable name (letters, digits, '_'), a prefix ending in * like MYAPP_*, or * for any" },
    ]);
  });

  it("reads MCP credentials as tokens or as a token bound to one server; a bad one is named without its value", () => {
    const config = loadConfig({ CLAUDE_AGENT_MCP_CREDENTIALS: JSON.stringify({ a: "tok-a-0123456789", b: { token: "tok-b-0123456789", url: "https://b.example/mcp" } }) });
    expect(config.CLAUDE_AGENT_MCP_CREDENTIALS).toEqual({ a: "tok-a-0123456789", b: { token: "tok-b-0123456789", url: "https://b.example/mcp" } });
    const bad = errorsOf({ CLAUDE_AGENT_MCP_CREDENTIALS: JSON.stringify({ b: { token: "tok-b-0123456789", url: "ftp://b.example" } }) });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ field: "CLAUDE_AGENT_MCP_CREDENTIALS", value: "(hidden)" });
    expect(JSON.stringify(bad)).not.toContain("tok-b");
    // With two servers allowed a bare token could go to either: refused, named, its value hidden.
    const two = { CLAUDE_AGENT_MCP_URLS: "https://a.example/mcp,https://b.example/mcp" };
    expect(errorsOf({ ...two, CLAUDE_AGENT_MCP_CREDENTIALS: JSON.stringify({ a: "tok-a-0123456789", b: { token: "tok-b-0123456789", url: "https://b.example/mcp" } }) })).toEqual([
      { field: "CLAUDE_AGENT_MCP_CREDENTIALS", value: "(hidden)", message: `'a' is a bare token, and CLAUDE_AGENT_MCP_URLS allows 2 servers: a task could send it to any of them; give each as {"token":"…","url":"<the one server it is for>"}` },
    ]);
    expect(loadConfig({ ...two, CLAUDE_AGENT_MCP_CREDENTIALS: JSON.stringify({ a: { token: "tok-a-0123456789", url: "https://a.example/mcp" } }) }).CLAUDE_AGENT_MCP_URLS).toHaveLength(2);
    expect(loadConfig({ CLAUDE_AGENT_MCP_URLS: "https://a.example/mcp", CLAUDE_AGENT_MCP_CREDENTIALS: JSON.stringify({ a: "tok-a-0123456789" }) }).CLAUDE_AGENT_MCP_CREDENTIALS).toEqual({ a: "tok-a-0123456789" });
  });

  it("README table and .env.example list exactly the variables the code reads", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(replaceConfigTable(readme)).toBe(readme);
    expect(readFileSync(".env.example", "utf8")).toBe(renderEnvExample());
  });
});
