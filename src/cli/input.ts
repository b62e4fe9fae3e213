/** Small parsers for CLI flags and inputs shared by the commands. */
import { readFileSync } from "node:fs";

export function parseEnvPairs(pairs: readonly string[]): { ok: true; value: Record<string, string> } | { ok: false; error: string } {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return { ok: false, error: `--env: expected NAME=value, got '${pair}'` };
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { ok: true, value: env };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A JSON object from the argument, else `--file`, else stdin (`what` names the command in errors,
 * `example` shows one): an unreadable file, text that is not JSON or not an object is an error.
 */
export async function readJsonObject(text: string | undefined, file: string | undefined, what: string, example = "", fileFlag = "--file"): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; error: string }> {
  let source = text;
  if (source === undefined && file !== undefined) {
    try {
      source = readFileSync(file, "utf8");
    } catch (error) {
      return { ok: false, error: `${fileFlag}: cannot read ${file}: ${(error as Error).message}` };
    }
  }
  source ??= await readStdin();
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    return { ok: false, error: `${what}: the request is not valid JSON (${(error as Error).message})` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { ok: false, error: `${what}: the request must be a JSON object${example ? `, e.g. ${example}` : ""}` };
  return { ok: true, value: parsed as Record<string, unknown> };
}
