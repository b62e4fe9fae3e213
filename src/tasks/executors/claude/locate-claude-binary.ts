/**
 * The `claude` binary: CLAUDE_CLI_PATH when set, else the native build the pinned Claude Agent
 * SDK ships in its platform package (no install script needed to get it).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export function locateClaudeBinary(configured?: string): string | undefined {
  if (configured) return configured;
  const require = createRequire(import.meta.url);
  try {
    const manifest = require.resolve(`@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}/package.json`);
    const binary = path.join(path.dirname(manifest), "claude");
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}
