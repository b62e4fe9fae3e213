/**
 * Secret redaction in what tasks produce. Whoever can read a synced drive reads a task's output,
 * result and errors, so the agent's own secrets (API key, API token, MCP credentials, the
 * database password) are replaced by [REDACTED] before anything is stored, written to a document
 * or streamed — also when a process prints one across two output chunks.
 *
 * Each secret is also found URL-encoded, JSON-escaped, in hex and in base64 / base64url at any
 * alignment (secret-forms.ts); a secret reversed, in pieces apart or encrypted is not. Values
 * shorter than MIN_SECRET_LENGTH are ignored (they would mask ordinary words).
 */
import { secretValues } from "./task-secrets.js";
import type { Config } from "../config.js";
import type { JsonValue } from "../tasks/types.js";
import { secretForms } from "./secret-forms.js";

export const REDACTED = "[REDACTED]";
export const MIN_SECRET_LENGTH = 8;

/** The agent's secrets that a task must never show: what the logger masks too. */
export function agentSecrets(config: Config): string[] {
  const secrets = [config.ANTHROPIC_API_KEY, config.API_TOKEN, config.API_READ_TOKEN, ...config.API_USERS.map((u) => u.token), ...config.API_READERS.map((u) => u.token), ...Object.values(config.CLAUDE_AGENT_MCP_CREDENTIALS).map((c) => (typeof c === "string" ? c : c.token)), ...secretValues(config.TASK_SECRETS)];
  if (config.DATABASE_URL) {
    try {
      secrets.push(decodeURIComponent(new URL(config.DATABASE_URL).password));
    } catch {
      // An unparsable URL fails at connection time with its own error.
    }
  }
  return secrets.filter((s): s is string => typeof s === "string" && s.length > 0);
}

/** Holds back the end of a stream that could be the start of a secret, until the next chunk tells. */
export class StreamRedactor {
  private carry = "";

  constructor(private readonly redactor: Redactor) {}

  /** The text that is safe to show now. */
  push(data: string): string {
    const text = this.redactor.text(this.carry + data);
    const keep = this.redactor.partialSuffixLength(text);
    this.carry = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** The rest, at the end of the stream (a partial secret alone is not the secret). */
  end(): string {
    const rest = this.carry;
    this.carry = "";
    return rest;
  }
}

export class Redactor {
  private readonly secrets: string[];

  constructor(values: readonly (string | undefined)[]) {
    const unique = new Set(values.filter((v): v is string => typeof v === "string" && v.length >= MIN_SECRET_LENGTH).flatMap(secretForms));
    // Longest first: a secret that contains another is replaced whole.
    this.secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** Every string in a JSON value (keys included), redacted; the value itself is not changed. */
  json<T extends JsonValue>(value: T): T {
    if (!this.active) return value;
    return this.walk(value) as T;
  }

  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }

  /** Length of the longest end of `text` that is the beginning of a secret (not a whole one). */
  partialSuffixLength(text: string): number {
    let longest = 0;
    for (const secret of this.secrets) {
      for (let n = Math.min(secret.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(secret.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }

  private walk(value: JsonValue): JsonValue {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value !== null && typeof value === "object") {
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of Object.entries(value)) out[this.text(key)] = this.walk(item);
      return out;
    }
    return value;
  }
}
