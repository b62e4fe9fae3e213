/** What loadConfig says of `env`: each error as "FIELD: message [value]", one per line, or "accepted". */
import { ConfigError, loadConfig } from "../../src/config.js";

export function configErrors(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.errors.map((e) => `${e.field}: ${e.message} [${e.value}]`).join("\n");
    throw error;
  }
  return "accepted";
}
