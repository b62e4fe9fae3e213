/** Small parsers for CLI flags shared by the run and submit commands. */

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
