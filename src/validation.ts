/**
 * Turning zod issues into errors a person can act on: the field, the value given, what is allowed.
 * Used at every boundary (env, HTTP, documents, CLI flags).
 */
import type { z } from "zod";

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

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map((p) => String(p)).join(".");
}

export function toFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.map((issue) => {
    const error: FieldError = { field: fieldPath(issue.path), message: issue.message };
    // zod reports the offending input when parsed with { reportInput: true }.
    if ("input" in issue && issue.input !== undefined) error.value = describeValue(issue.input);
    return error;
  });
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors
    .map((e) => `${e.field}: ${e.message}${e.value !== undefined ? ` (got ${e.value})` : ""}`)
    .join("\n");
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
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: toFieldErrors(result.error.issues) };
}

/** A name another schedule, hook or template has already (answered 409 by the API). */
export class NameTakenError extends Error {
  constructor(what: string, name: string) {
    super(`a ${what} named '${name}' exists already`);
    this.name = "NameTakenError";
  }
}

/** A unique index refused a write (PostgreSQL and PGlite say so in the message). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && /unique|duplicate/i.test(error.message);
}
