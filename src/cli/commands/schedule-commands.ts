/**
 * `ph-tasks schedule add|list|show|pause|resume|rm`: cron schedules on the running agent, which
 * checks every field (the answers' field errors are shown as they come).
 */
import type { Command } from "commander";
import { z } from "zod";
import { ResourceCommands } from "./resource-commands.js";
import { paramOptions, taskOrPipeline, type TemplateFlags } from "./task-template-flags.js";

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
  lastPipelineId: z.string().nullable().optional(),
  lastError: z.string().nullable(),
  firedCount: z.number(),
  skippedCount: z.number(),
});
type ApiSchedule = z.infer<typeof ApiScheduleSchema>;

function describe(s: ApiSchedule): string {
  return [
    `${s.name}  ${s.enabled ? "active" : "paused"}  "${s.cron}" (${s.timezone}), overlap ${s.overlap}`,
    `  next ${s.nextFireAt ?? "–"}  last ${s.lastFiredAt ?? "–"}${s.lastTaskId ? ` (task ${s.lastTaskId})` : ""}${s.lastPipelineId ? ` (pipeline ${s.lastPipelineId})` : ""}`,
    `  fired ${s.firedCount}, skipped ${s.skippedCount}${s.lastError ? `\n  last error: ${s.lastError}` : ""}`,
    `  id ${s.id}`,
  ].join("\n");
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command("schedule").description("cron schedules that make tasks");
  const schedules = new ResourceCommands({ group: schedule, collection: "/api/schedules", singular: "schedule", plural: "schedules", schema: ApiScheduleSchema, describe });

  paramOptions(schedule
    .command("add"))
    .description('make a task at every occurrence of a cron expression, e.g. add nightly "0 3 * * *" --task \'{"type":"cli",...}\'')
    .argument("<name>", "unique name: lower-case letters, digits, '.', '_', '-'")
    .argument("<cron>", 'cron expression: 5 fields, 6 with seconds first, or @daily, @hourly, ...')
    .option("--task <json>", 'the task request each firing makes; "{{schedule.occurrence}}" and "{{schedule.name}}" are filled in')
    .option("--task-file <path>", "the same, from a JSON file")
    .option("--template <name>", "or a saved template (ph-tasks template list), with --param / --param-json; their values may hold the same placeholders")
    .option("--pipeline-file <path>", "or a pipeline (JSON, as ph-tasks pipeline run takes it) that each firing makes")
    .option("--timezone <zone>", "IANA time zone of the expression", "UTC")
    .option("--overlap <skip|allow>", "when the last task still runs: skip the occurrence or make another task", "skip")
    .option("--paused", "create it paused")
    .option("--json", "print the schedule as JSON")
    .action(async (name: string, cron: string, flags: TemplateFlags & { task?: string; taskFile?: string; pipelineFile?: string; timezone: string; overlap: string; paused?: boolean; json?: boolean }, command: Command) => {
      const body = { name, cron, timezone: flags.timezone, overlap: flags.overlap, enabled: !flags.paused, task: await taskOrPipeline(flags) };
      await schedules.requestOne(command, "POST", "/api/schedules", body, flags.json);
    });

  const state = (s: ApiSchedule) => `${s.name} ${s.enabled ? `active, next ${s.nextFireAt ?? "–"}` : "paused"}`;
  schedules
    .list("every schedule, by name")
    .show("one schedule")
    .change("pause", "stop firing (the tasks it made go on)", { enabled: false }, state)
    .change("resume", "fire again, from the next occurrence after now", { enabled: true }, state)
    .remove("remove a schedule (the tasks it made stay)");
}
