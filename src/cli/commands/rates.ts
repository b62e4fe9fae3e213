/**
 * Rates as the command line writes them ("50/min", "1/s", "5/30s"), for the task types' rate limits
 * (`queue limit`) and the webhooks' (`webhook limit`).
 */
import { parseDuration } from "../../config.js";
import { ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";

const RATE_UNITS: Record<string, string> = { s: "1s", sec: "1s", second: "1s", m: "1m", min: "1m", minute: "1m", h: "1h", hour: "1h", d: "1d", day: "1d" };

/** "10/min", "100/h", "5/30s" → { max, per } for the API (which checks the ranges); undefined when not of that form. */
export function parseRate(text: string): { max: number; per: string } | undefined {
  const match = /^\s*(\d+)\s*\/\s*([a-z0-9.]+)\s*$/i.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const unit = match[2].toLowerCase();
  const per = RATE_UNITS[unit] ?? RATE_UNITS[unit.replace(/s$/, "")] ?? (parseDuration(unit) !== undefined ? unit : undefined);
  return per ? { max: Number(match[1]), per } : undefined;
}

/** 60000 → "min", 30000 → "30s": the window of a rate as `queue limit` takes it. */
export function describeWindow(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["min", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return ms === size ? unit : `${ms / size}${unit === "min" ? "min" : unit}`;
  }
  return `${ms}ms`;
}

/** A rate given on the command line, for the API; a usage error (exit 2) naming what is expected. */
export function rateArgument(value: string, what: string): { max: number; per: string } {
  const parsed = parseRate(value);
  if (!parsed) throw new ClientError(`rate: expected ${what} per window like 10/min, 100/h or 5/30s, got '${value}'`, EXIT.usage);
  return parsed;
}
