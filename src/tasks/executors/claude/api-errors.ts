/**
 * Anthropic API failures as the `claude` CLI (and the Agent SDK, which runs it) reports them,
 * classified for the task manager. The CLI keeps `subtype: "success"` on API errors: what counts
 * is `is_error` + `api_error_status` on the result, or the `system/api_retry` line it prints before
 * retrying by itself.
 */
import type { JsonObject } from "../../types.js";
import { fatal, retryable, type TaskExecutionError } from "../executor.js";

/**
 * The CLI's own first retry waits 500 ms plus up to 25 % jitter (measured with 2.1.331: 502–609 ms);
 * when the server sent retry-after it waits that long plus the same jitter (3 s → 3306 ms,
 * 5 s → 6009 ms). So a first delay of a second or more can only be the server's retry-after, and
 * anything shorter is the CLI's backoff, which must not replace ours.
 */
const CLI_FIRST_BACKOFF_MAX_MS = 1000;

/** The server's retry-after, read back from the first api_retry line's delay; undefined if the server gave none. */
export function serverRetryAfterMs(retryDelayMs: number | undefined): number | undefined {
  return retryDelayMs !== undefined && retryDelayMs >= CLI_FIRST_BACKOFF_MAX_MS ? Math.round(retryDelayMs) : undefined;
}

export interface ApiFailure {
  /** HTTP status; null when the CLI has none (529 on the result line, a connection failure). */
  status: number | null | undefined;
  text: string;
  retryAfterMs?: number | undefined;
  result?: JsonObject;
  /** The CLI judged the failure transient: it was about to retry (api_retry), or named a connection failure. */
  transient?: boolean;
}

export function classifyApiFailure({ status, text, retryAfterMs, result, transient = false }: ApiFailure): TaskExecutionError {
  const extra = { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(result ? { result } : {}) };
  // The CLI retries 401 too (notes/claude-cli.md): a wrong key never gets better, so it is fatal here.
  if (status === 401 || status === 403 || /invalid api key|not logged in|authentication/i.test(text)) {
    return fatal("auth", `the Anthropic API refused the credentials (${status ?? "no status"}): ANTHROPIC_API_KEY is missing or wrong — ${text}`, extra);
  }
  if (status === 429) return retryable("rate_limited", `rate limited by the Anthropic API: ${text}`, extra);
  if (status === 529 || /overloaded/i.test(text)) return retryable("overloaded", `the Anthropic API is overloaded: ${text}`, extra);
  if (status !== null && status !== undefined && status >= 500) return retryable("api_error", `the Anthropic API failed (${status}): ${text}`, extra);
  if (transient && (status === null || status === undefined)) {
    return retryable("api_unreachable", `the Anthropic API could not be reached (${text}); check ANTHROPIC_BASE_URL and the network`, extra);
  }
  return fatal("claude_error", `claude reported an error${status ? ` (${status})` : ""}: ${text}`, extra);
}
