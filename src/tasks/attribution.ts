/**
 * A task request as the agent stores it: `source.by` (who asked, as proven) is the agent's to say,
 * like `source.origin` — whatever a request brings there is dropped, and the proven name put in.
 */

/** The request with `source.by` set to `by` (or removed when no one is proven); other values are returned as they are. */
export function attributed(input: unknown, by: string | undefined): unknown {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return input;
  const request = input as Record<string, unknown>;
  const given = request.source;
  const source = given !== null && typeof given === "object" && !Array.isArray(given) ? { ...(given as Record<string, unknown>) } : undefined;
  if (source) delete source.by;
  if (by === undefined) return source ? { ...request, source } : request;
  return { ...request, source: { ...(source ?? {}), by } };
}
