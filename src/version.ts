/** This package's version, from package.json (one source for the CLI's --version and the workers list). */
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
export const VERSION = typeof manifest.version === "string" ? manifest.version : "unknown";
