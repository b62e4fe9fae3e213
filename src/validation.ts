/**
 * Turning zod issues into errors a person can act on: the field, the value given, what is allowed.
 * Used at every boundary (env, HTTP, documents, CLI flags).
 */
import { z } from "zod";

export interface FieldError {
  /** Dotted path of the field, e.g. "args.2" or "source.documentId"; "(root)" for the whole value. */
  field: string;
  message: string;
  /** The value given, shortened; absent when the field was missing. */
  value?: string;
}

export function describeValue(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (value === undefined) text = "undefined";
  else {
    try {
      text = JSON.stringify(value) ?? typeof value;
    } catch {
      text = `[${typeof value}]`;
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A JSON object (not null, not an array). */
export const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map((p) => String(p)).join(".");
}

/** The value at `path` inside `raw`, or undefined when the path leads nowhere. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = raw;
  for (const key of path) {
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * `raw` is what was given: a value zod coerced to NaN (a query's "abc" as a number) is shown as it
 * was given rather than as NaN, which JSON writes "null".
 */
export function toFieldErrors(issues: readonly z.core.$ZodIssue[], raw?: unknown): FieldError[] {
  return issues.map((issue) => {
    const error: FieldError = { field: fieldPath(issue.path), message: issue.message };
    // zod reports the offending input when parsed with { reportInput: true } (for a bad key of a
    // record, the key itself).
    const reported = "input" in issue ? issue.input : undefined;
    const shown = Number.isNaN(reported) && raw !== undefined ? valueAt(raw, issue.path) : reported;
    if (shown !== undefined) error.value = describeValue(shown);
    return error;
  });
}

export function formatFieldErrors(errors: readonly FieldError[], separator = "\n"): string {
  return errors.map((e) => `${e.field}: ${e.message}${e.value !== undefined ? ` (got ${e.value})` : ""}`).join(separator);
}

export class ValidationError extends Error {
  constructor(
    readonly what: string,
    readonly errors: FieldError[],
  ) {
    super(`invalid ${what}:\n${formatFieldErrors(errors)}`);
    this.name = "ValidationError";
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function parseWith<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: toFieldErrors(result.error.issues, input) };
}

/** A name another schedule, hook or template has already (answered 409 by the API). */
export class NameTakenError extends Error {
  constructor(what: string, name: string) {
    super(`a ${what} named '${name}' exists already`);
    this.name = "NameTakenError";
  }
}

/** A change the asker may not make, whoever else may (answered 403 by the API, naming why). */
export class ForbiddenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ForbiddenError";
  }
}

/** A unique index refused a write (PostgreSQL and PGlite say so in the message). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && /unique|duplicate/i.test(error.message);
}

/** A string holding JSON (an environment variable's): parsed, or `message` — never the text, which may hold secrets. */
export function jsonText(message: string) {
  return z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
  });
}
