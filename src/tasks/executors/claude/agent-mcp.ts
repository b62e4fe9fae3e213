/**
 * Which MCP server a Claude agent task talks to, and with which credentials. A document must not be
 * able to send the agent's credentials to a server of its choosing, so:
 * - no `mcpConfig.serverUrl`: the agent's own reactor-mcp (`<agent url>/mcp`, with API_TOKEN as the
 *   bearer token when one is set), else the configured MCP_SERVER_URL;
 * - a `serverUrl`: only one listed in CLAUDE_AGENT_MCP_URLS, and it gets no token but the one
 *   `credentialsRef` names (CLAUDE_AGENT_MCP_CREDENTIALS) — never API_TOKEN;
 * - a credential given with its `url` goes to that server only: with two servers allowed, a
 *   document could otherwise send one server's token to the other.
 * Refusals name the field, the value and what is allowed, and happen before anything starts.
 */
import { fatal, type TaskExecutionError } from "../executor.js";

/** The agent's own reactor-mcp endpoint, known once its HTTP server listens. */
export interface OwnMcp {
  url: string;
  token?: string | undefined;
}

export interface McpPolicy {
  ownMcp?: (() => OwnMcp | undefined) | undefined;
  /** MCP_SERVER_URL: used when the agent's own endpoint is not available. */
  fallbackUrl?: string | undefined;
  /** CLAUDE_AGENT_MCP_URLS. */
  allowedUrls: readonly string[];
  /** CLAUDE_AGENT_MCP_CREDENTIALS: name → token, or token and the one server it is for. */
  credentials: Readonly<Record<string, McpCredential>>;
}

export interface McpCredential {
  token: string;
  /** The only server this token may be sent to; absent: any allowed one. */
  url?: string | undefined;
}

/** A credential as configured: a bare token, or { token, url }. */
export function toCredential(value: string | McpCredential): McpCredential {
  return typeof value === "string" ? { token: value } : value;
}

export interface McpFields {
  serverUrl?: string | undefined;
  credentialsRef?: string | undefined;
}

export interface McpTarget {
  url: string;
  headers: Record<string, string>;
  /** Where the URL came from (for progress and the result; never the token). */
  source: "own" | "configured" | "task";
}

/** The MCP server's name in the CLI: its tools are `mcp__powerhouse__<tool>`. */
export const MCP_SERVER_NAME = "powerhouse";

/** reactor-mcp's tools the agent may use without asking. */
export const ALLOWED_MCP_TOOLS = [
  "getDocument",
  "getDocuments",
  "createDocument",
  "deleteDocument",
  "addActions",
  "getDrives",
  "getDrive",
  "addDrive",
  "getDocumentModels",
  "getDocumentModelSchema",
].map((tool) => `mcp__${MCP_SERVER_NAME}__${tool}`);

/**
 * Removed from the model's tool list altogether: connecting the reactor to a remote drive would let a
 * document make the agent sync with a server of its choosing, and deleting a whole drive is not a
 * task's business.
 */
export const DISALLOWED_MCP_TOOLS = ["addRemoteDrive", "deleteDrive"].map((tool) => `mcp__${MCP_SERVER_NAME}__${tool}`);

/** URLs compare after parsing (case of the host, default ports, a bare trailing slash). */
export function normalizeUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
    return parsed.href;
  } catch {
    return undefined;
  }
}

/** An address the server listens on may not be one to connect to (0.0.0.0, ::): use loopback then. */
export function ownMcpUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  else if (url.hostname === "[::]") url.hostname = "[::1]";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/mcp`;
  return url.href;
}

export interface McpProblem {
  field: "mcpConfig.serverUrl" | "mcpConfig.credentialsRef";
  value: string;
  message: string;
}

/** What is wrong with a task's MCP fields under this policy (empty when nothing is). */
export function mcpProblems(fields: McpFields, policy: McpPolicy): McpProblem[] {
  const problems: McpProblem[] = [];
  if (fields.serverUrl !== undefined) {
    const wanted = normalizeUrl(fields.serverUrl);
    const allowed = policy.allowedUrls.map((u) => normalizeUrl(u)).filter((u): u is string => u !== undefined);
    if (wanted === undefined || !allowed.includes(wanted)) {
      problems.push({
        field: "mcpConfig.serverUrl",
        value: fields.serverUrl,
        message:
          allowed.length > 0
            ? `is not an allowed MCP server; allowed: ${allowed.join(", ")} (CLAUDE_AGENT_MCP_URLS), or leave it out for the agent's own /mcp`
            : "is not allowed: this agent allows no other MCP server (CLAUDE_AGENT_MCP_URLS is empty); leave it out for the agent's own /mcp",
      });
    }
  }
  if (fields.credentialsRef !== undefined && !Object.hasOwn(policy.credentials, fields.credentialsRef)) {
    const names = Object.keys(policy.credentials);
    problems.push({
      field: "mcpConfig.credentialsRef",
      value: fields.credentialsRef,
      message: `names no configured credential; known: ${names.length > 0 ? names.join(", ") : "none"} (CLAUDE_AGENT_MCP_CREDENTIALS)`,
    });
  } else if (fields.credentialsRef !== undefined) {
    const boundTo = normalizeUrl(policy.credentials[fields.credentialsRef]?.url ?? "");
    const target = fields.serverUrl !== undefined ? normalizeUrl(fields.serverUrl) : undefined;
    if (boundTo !== undefined && target !== boundTo) {
      problems.push({
        field: "mcpConfig.credentialsRef",
        value: fields.credentialsRef,
        message: `is for ${boundTo} only (CLAUDE_AGENT_MCP_CREDENTIALS); this task's server is ${target ?? "the agent's own /mcp (no mcpConfig.serverUrl)"}`,
      });
    }
  }
  return problems;
}

function refusal(problems: McpProblem[]): TaskExecutionError {
  return fatal("invalid_task", problems.map((p) => `${p.field}: '${p.value}' ${p.message}`).join("; "));
}

/** The server and headers of one run; throws a fatal `invalid_task` error for what the policy refuses. */
export function resolveMcpTarget(fields: McpFields, policy: McpPolicy): McpTarget {
  const problems = mcpProblems(fields, policy);
  if (problems.length > 0) throw refusal(problems);
  const named = fields.credentialsRef !== undefined ? policy.credentials[fields.credentialsRef]?.token : undefined;
  const bearer = (token: string | undefined): Record<string, string> => (token ? { Authorization: `Bearer ${token}` } : {});
  if (fields.serverUrl !== undefined) return { url: normalizeUrl(fields.serverUrl) ?? fields.serverUrl, headers: bearer(named), source: "task" };
  const own = policy.ownMcp?.();
  if (own) return { url: own.url, headers: bearer(named ?? own.token), source: "own" };
  if (policy.fallbackUrl) return { url: policy.fallbackUrl, headers: bearer(named), source: "configured" };
  throw fatal("mcp_not_configured", "no MCP server for this claude-agent task: the agent's own /mcp is not available here and MCP_SERVER_URL is not set");
}
