/** Where the client commands find the agent: --url / PH_TASKS_URL, and API_TOKEN. */
import type { Command } from "commander";
import { z } from "zod";
import { AgentClient, ClientError } from "../client.js";
import { EXIT } from "../exit-codes.js";

const ClientEnvSchema = z.object({
  PH_TASKS_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("http://127.0.0.1:4000"),
  API_TOKEN: z.string().min(1).optional(),
});

export function clientFor(command: Command): AgentClient {
  const globals = command.optsWithGlobals<{ url?: string }>();
  const env = ClientEnvSchema.safeParse({
    PH_TASKS_URL: globals.url ?? (process.env.PH_TASKS_URL || undefined),
    API_TOKEN: process.env.API_TOKEN || undefined,
  });
  if (!env.success) {
    const issue = env.error.issues[0];
    throw new ClientError(`${String(issue?.path[0] ?? "PH_TASKS_URL")}: ${issue?.message ?? "invalid"}`, EXIT.usage);
  }
  return new AgentClient(env.data.PH_TASKS_URL.replace(/\/$/, ""), env.data.API_TOKEN);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
