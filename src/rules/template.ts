/**
 * Filling task templates from an operation and its document: "{{input.name}}" in a string is
 * replaced by the value at that path. A string that is exactly one placeholder keeps the value's
 * type (an array stays an array). Unknown paths become "" (in text) or null (whole values).
 * Nothing is evaluated: the template language is paths only. `{{steps.…}}` is left as written.
 */
export const PLACEHOLDER = /\{\{\s*([\w.$-]+)\s*\}\}/g;
export const WHOLE = /^\{\{\s*([\w.$-]+)\s*\}\}$/;

/** The value at a dotted path, through own properties only: `constructor`, `__proto__` and the like are nothing. */
export function valueAt(context: unknown, path: string): unknown {
  let current: unknown = context;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** `{{steps.…}}` is a pipeline step's reference to an earlier step's result, filled when it runs (pipelines/step-results.ts). */
const isStepReference = (path: string) => path.startsWith("steps.");

export function fillTemplate(template: unknown, context: unknown): unknown {
  if (typeof template === "string") {
    const whole = WHOLE.exec(template);
    if (whole?.[1]) return isStepReference(whole[1]) ? template : (valueAt(context, whole[1]) ?? null);
    return template.replace(PLACEHOLDER, (placeholder, path: string) => (isStepReference(path) ? placeholder : asText(valueAt(context, path))));
  }
  if (Array.isArray(template)) return template.map((item) => fillTemplate(item, context));
  if (template !== null && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, fillTemplate(value, context)]));
  }
  return template;
}
