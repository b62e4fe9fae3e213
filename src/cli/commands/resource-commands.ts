/**
 * The subcommands every named resource of the agent shares — schedules, hooks, templates,
 * webhooks: `list`, `show`, a PATCH per verb (`pause`, `resume`, `rotate`), `rm`. Each resource
 * file adds its own `add` and extras and says how one item is printed; the requests, `--json`
 * and the answers' checking are here, once.
 */
import type { Command } from "commander";
import { z } from "zod";
import { parseDuration } from "../../config.js";
import { ClientError, type AgentClient } from "../client.js";
import { EXIT } from "../exit-codes.js";
import { rateArgument } from "./rates.js";
import { clientFor, printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

export interface ResourceSpec<T> {
  /** The command group, e.g. `ph-tasks schedule`. */
  group: Command;
  /** The collection's path, e.g. "/api/schedules". */
  collection: string;
  /** The answer's key for one item ("schedule") and for the list ("schedules"). */
  singular: string;
  plural: string;
  schema: z.ZodType<T>;
  /** One item as text (the client gives the agent's address, for URLs). */
  describe: (item: T, client: AgentClient) => string;
}

export class ResourceCommands<T> {
  /** An answer holding one item under its key. */
  readonly one: z.ZodType<T>;
  private readonly many: z.ZodType<T[]>;

  constructor(private readonly spec: ResourceSpec<T>) {
    this.one = z.object({ [spec.singular]: spec.schema }).transform((answer) => answer[spec.singular] as T);
    this.many = z.object({ [spec.plural]: z.array(spec.schema) }).transform((answer) => answer[spec.plural] as T[]);
  }

  /** The path of one item, by name or id. */
  path(id: string): string {
    return `${this.spec.collection}/${encodeURIComponent(id)}`;
  }

  /** Sends a request whose answer is one item; prints it (as JSON with --json). */
  async requestOne(command: Command, method: string, path: string, body?: unknown, json = false): Promise<void> {
    const client = clientFor(command);
    const item = await client.request(method, path, this.one, body);
    if (json) return printJson(item);
    printText(`${this.spec.describe(item, client)}\n`);
  }

  list(description: string): this {
    this.spec.group
      .command("list")
      .description(description)
      .option("--json", "print JSON")
      .action(async (flags: { json?: boolean }, command: Command) => {
        const client = clientFor(command);
        const items = await client.request("GET", this.spec.collection, this.many);
        if (flags.json) return printJson(items);
        printText(items.length === 0 ? `no ${this.spec.plural}\n` : `${items.map((item) => this.spec.describe(item, client)).join("\n")}\n`);
      });
    return this;
  }

  show(description: string): this {
    this.spec.group
      .command("show")
      .description(description)
      .argument("<name>", "name or id")
      .option("--json", "print JSON")
      .action((id: string, flags: { json?: boolean }, command: Command) => this.requestOne(command, "GET", this.path(id), undefined, flags.json));
    return this;
  }

  /** A verb that changes one field (PATCH), printing the item as it is then, or `print` of it. */
  change(verb: string, description: string, body: Record<string, unknown>, print?: (item: T) => string): this {
    this.spec.group
      .command(verb)
      .description(description)
      .argument("<name>", "name or id")
      .action(async (id: string, _flags: unknown, command: Command) => {
        if (!print) return this.requestOne(command, "PATCH", this.path(id), body);
        printText(`${print(await clientFor(command).request("PATCH", this.path(id), this.one, body))}\n`);
      });
    return this;
  }

  /** `limit <name> <rate>|--off`: at most so many `what` per window, across all workers (PATCH rateLimit). */
  limit(description: string, what: string): this {
    this.spec.group
      .command("limit")
      .description(description)
      .argument("<name>", "name or id")
      .argument("[rate]", `${what} per window: 1/s, 30/min, 500/h (windows from 1s to 24h)`)
      .option("--off", `lift the ${this.spec.singular}'s limit`)
      .option("--json", `print the ${this.spec.singular} as JSON`)
      .action(async (id: string, value: string | undefined, flags: { off?: boolean; json?: boolean }, command: Command) => {
        if (flags.off === (value !== undefined)) throw new ClientError("give a rate like 30/min, or --off", EXIT.usage);
        await this.requestOne(command, "PATCH", this.path(id), { rateLimit: value === undefined ? null : rateArgument(value, what) }, flags.json);
      });
    return this;
  }

  /** `rotate <name> [--grace <duration>]`: a new signing secret, printed once; the old one valid for the grace period. */
  rotate(description: string): this {
    this.spec.group
      .command("rotate")
      .description(description)
      .argument("<name>", "name or id")
      .option("--grace <duration>", "the old secret stays valid beside the new one this long (e.g. 1h, at most 7d), so the other side can switch without losing a delivery; default: it stops at once")
      .option("--json", "print JSON")
      .action(async (id: string, flags: { grace?: string; json?: boolean }, command: Command) => {
        const graceMs = flags.grace === undefined ? undefined : parseDuration(flags.grace);
        if (graceMs === undefined && flags.grace !== undefined) throw new ClientError(`--grace: expected a duration like 30m, 1h or 2d, got '${flags.grace}'`, EXIT.usage);
        await this.requestOne(command, "PATCH", this.path(id), { rotateSecret: true, ...(graceMs !== undefined ? { graceMs } : {}) }, flags.json);
      });
    return this;
  }

  remove(description: string): this {
    this.spec.group
      .command("rm")
      .description(description)
      .argument("<name>", "name or id")
      .action(async (id: string, _flags: unknown, command: Command) => {
        await clientFor(command).request("DELETE", this.path(id), z.unknown());
        printText(`${id} removed\n`);
      });
    return this;
  }
}
