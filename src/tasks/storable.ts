/**
 * What a run produces, made storable. PostgreSQL (and PGlite) keeps no NUL character in text or
 * JSON: one NUL in a process's output would make the round trip that records its end fail, so the
 * task would stay "running" until its lease ran out and then run again. A NUL becomes U+FFFD (the
 * replacement character), as an undecodable byte already does.
 */
import type { JsonValue } from "./types.js";

const NUL = "\u0000";
const REPLACEMENT = "\uFFFD";

export function storableText(text: string): string {
  return text.includes(NUL) ? text.split(NUL).join(REPLACEMENT) : text;
}

/** The value itself when it holds no NUL (the usual case costs one walk and no copy). */
export function storableJson<T extends JsonValue>(value: T): T {
  return hasNul(value) ? (replaceNul(value) as T) : value;
}

function hasNul(value: JsonValue): boolean {
  if (typeof value === "string") return value.includes(NUL);
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === "object") return Object.entries(value).some(([key, item]) => key.includes(NUL) || hasNul(item));
  return false;
}

function replaceNul(value: JsonValue): JsonValue {
  if (typeof value === "string") return storableText(value);
  if (Array.isArray(value)) return value.map(replaceNul);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), replaceNul(item)]));
  return value;
}
