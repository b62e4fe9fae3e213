/**
 * `ph-tasks schedule add|list|show|pause|resume|rm`: cron schedules on the running agent, which
 * checks every field (the answers' field errors are shown as they come).
 */
import type { Command } from "commander";
import { z } from "zod";
import { clientFor, printJson } from "./client-options.js";
import { paramOptions, taskTemplate, type TemplateFlags } from "./task-template-flags.js";

const ApiScheduleSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  overlap: z.string(),
  enabled: z.boolean(),
  nextFireAt: z.string().nullable(),
  lastFiredAt: z.string().nullable(),
  lastTaskId: z.string().nullable(),
  lastError: z.string().nullable(),
  firedCount: z.number(),
  skippedCount: z.number(),
});
type ApiSchedule = z.infer<typeof ApiScheduleSchema>;
const OneSchedule = z.object({ schedule: ApiScheduleSchema });

function describe(s: ApiSchedule): string {
  return [
    `${s.name}  ${s.enabled ? "active" : "paused"}  "${s.cron}" (${s.timezone}), overlap ${s.overlap}`,
    `  next ${s.nextFireAt ?? "–"}  last ${s.lastFiredAt ?? "–"}${s.lastTaskId ? ` (task ${s.lastTaskId})` : ""}`,
    `  fired ${s.firedCount}, skipped ${s.skippedCount}${s.lastError ? `\n  last error: ${s.lastError}` : ""}`,
    `  id ${s.id}`,
  ].join("\n");
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command("schedule").description("cron schedules that make tasks");
  const path = (id: string) => `/api/schedules/${encodeURIComponent(id)}`;

  paramOptions(schedule
    .command("add"))
    .description('make a task at every occurrence of a cron expression, e.g. add nightly "0 3 * * *" --task \'{"type":"cli",...}\'')
    .argument("<name>", "unique name: lower-case letters, digits, '.', '_', '-'")
    .argument("<cron>", 'cron expression: 5 fields, 6 with seconds first, or @daily, @hourly, ...')
    .option("--task <json>", 'the task request each firing makes; "{{schedule.occurrence}}" and "{{schedule.name}}" are filled in')
    .option("--task-file <path>", "the same, from a JSON file")
    .option("--template <name>", "or a saved template (ph-tasks template list), with --param / --param-json; their values may hold the same placeholders")
    .option("--timezone <zone>", "IANA time zone of the expression", "UTC")
    .option("--overlap <skip|allow>", "when the last task still runs: skip the occurrence or make another task", "skip")
    .option("--paused", "create it paused")
    .option("--json", "print the schedule as JSON")
    .action(async (name: string, cron: string, flags: TemplateFlags & { task?: string; taskFile?: string; timezone: string; overlap: string; paused?: boolean; json?: boolean }, command: Command) => {
      const body = { name, cron, timezone: flags.timezone, overlap: flags.overlap, enabled: !flags.paused, task: taskTemplate(flags) };
      const { schedule: created } = await clientFor(command).request("POST", "/api/schedules", OneSchedule, body);
      if (flags.json) return printJson(created);
      process.stdout.write(`${describe(created)}\n`);
    });

  schedule
    .command("list")
    .description("every schedule, by name")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { schedules } = await clientFor(command).request("GET", "/api/schedules", z.object({ schedules: z.array(ApiScheduleSchema) }));
      if (flags.json) return printJson(schedules);
      process.stdout.write(schedules.length === 0 ? "no schedules\n" : `${schedules.map(describe).join("\n")}\n`);
    });

  schedule
    .command("show")
    .description("one schedule")
    .argument("<name>", "name or id")
    .option("--json", "print JSON")
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const { schedule: found } = await clientFor(command).request("GET", path(id), OneSchedule);
      if (flags.json) return printJson(found);
      process.stdout.write(`${describe(found)}\n`);
    });

  for (const [verb, enabled] of [["pause", false], ["resume", true]] as const) {
    schedule
      .command(verb)
      .description(enabled ? "fire again, from the next occurrence after now" : "stop firing (the tasks it made go on)")
      .argument("<name>", "name or id")
      .action(async (id: string, _flags: unknown, command: Command) => {
        const { schedule: changed } = await clientFor(command).request("PATCH", path(id), OneSchedule, { enabled });
        process.stdout.write(`${changed.name} ${changed.enabled ? `active, next ${changed.nextFireAt ?? "–"}` : "paused"}\n`);
      });
  }

  schedule
    .command("rm")
    .description("remove a schedule (the tasks it made stay)")
    .argument("<name>", "name or id")
    .action(async (id: string, _flags: unknown, command: Command) => {
      await clientFor(command).request("DELETE", path(id), z.unknown());
      process.stdout.write(`${id} removed\n`);
    });
}
