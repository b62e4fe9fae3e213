/**
 * Logging with pino: JSON lines by default, readable on a terminal with LOG_FORMAT=pretty.
 * Secrets never reach the log: known secret fields are redacted by path, and secret values the
 * agent knows (API key, token) are masked wherever they appear in a message.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from "pino";
import pretty from "pino-pretty";

export type Logger = PinoLogger;

const REDACT_PATHS = [
  "apiKey",
  "token",
  "password",
  "authorization",
  "*.apiKey",
  "*.token",
  "*.password",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "env.ANTHROPIC_API_KEY",
  "*.env.ANTHROPIC_API_KEY",
  "environment.ANTHROPIC_API_KEY",
  "*.environment.ANTHROPIC_API_KEY",
  "env.API_TOKEN",
  "*.env.API_TOKEN",
  "env.API_READ_TOKEN",
  "*.env.API_READ_TOKEN",
  "env.API_USERS",
  "*.env.API_USERS",
  "env.API_READERS",
  "*.env.API_READERS",
];

export interface LoggerOptions {
  level?: string;
  format?: "json" | "pretty";
  /** Secret values to mask wherever they appear (e.g. the API key, the API token). */
  secrets?: (string | undefined)[];
  destination?: DestinationStream;
}

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("[REDACTED]");
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length >= 8);
  // Synchronous: an agent stopped by a signal must not lose its last lines.
  const base = options.destination ?? (options.format === "pretty" ? pretty({ sync: true, colorize: process.stdout.isTTY }) : pino.destination({ dest: 1, sync: true }));
  // Mask known secret values in the serialised line, whatever field they ended up in.
  const destination: DestinationStream =
    secrets.length === 0 ? base : { write: (line: string) => base.write(maskSecrets(line, secrets)) };
  return pino(
    {
      level: options.level ?? "info",
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
    },
    destination,
  );
}

/** A logger that writes nothing, for tests and one-shot commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
