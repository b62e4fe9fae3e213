/** `ph-tasks template put|list|show|rm`: named task templates on the running agent. */
import type { Command } from "commander";
import { z } from "zod";
import { clientFor, printJson } from "./client-options.js";
import { ResourceCommands } from "./resource-commands.js";
import { taskTemplate } from "./task-template-flags.js";

const ApiTemplateSchema = z.looseObject({ id: z.string(), name: z.string(), description: z.string(), params: z.array(z.string()), task: z.record(z.string(), z.unknown()) });
type ApiTemplate = z.infer<typeof ApiTemplateSchema>;

/** "pipeline: <title>" for a pipeline template, the task's type for a task template. */
const what = (task: ApiTemplate["task"]) => (typeof task.pipeline === "object" && task.pipeline !== null ? `pipeline: ${String((task.pipeline as { title?: unknown }).title)}` : String(task.type));
const describe = (t: ApiTemplate) => `${t.name}  ${what(t.task)}${t.params.length ? `  params: ${t.params.join(", ")}` : ""}${t.description ? `\n  ${t.description}` : ""}`;

export function registerTemplateCommands(program: Command): void {
  const template = program.command("template").description("named task templates: ph-tasks submit template <name> --param k=v makes a task from one (ph-tasks pipeline run --template <name>: a pipeline)");
  const templates = new ResourceCommands({ group: template, collection: "/api/templates", singular: "template", plural: "templates", schema: ApiTemplateSchema, describe });

  template
    .command("put")
    .description("create or replace a template")
    .argument("<name>", "unique name: lower-case letters, digits, '.', '_', '-'")
    .option("--task <json>", 'the task request, with "{{params.<name>}}" where a parameter goes; { "pipeline": {...} } for a pipeline template')
    .option("--task-file <path>", "the same, from a JSON file")
    .option("--description <text>", "what it is for")
    .option("--json", "print the template as JSON")
    .action(async (name: string, flags: { task?: string; taskFile?: string; description?: string; json?: boolean }, command: Command) => {
      const body = { task: taskTemplate(flags), ...(flags.description !== undefined ? { description: flags.description } : {}) };
      await templates.requestOne(command, "PUT", templates.path(name), body, flags.json);
    });

  templates.list("every template, by name");
  template
    .command("show")
    .description("one template, as JSON")
    .argument("<name>", "name or id")
    .action(async (name: string, _flags: unknown, command: Command) => {
      printJson(await clientFor(command).request("GET", templates.path(name), templates.one));
    });
  templates.remove("remove a template (the tasks made from it stay)");
}
