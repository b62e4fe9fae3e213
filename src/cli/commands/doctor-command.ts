/** `ph-tasks doctor`: checks this machine's setup before (or beside) a running agent; exit 1 on a failure. */
import type { Command } from "commander";
import { EXIT } from "../exit-codes.js";
import { printJson } from "./client-options.js";
import { printText } from "../terminal-text.js";

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("check the configuration, the task store, the allowed roots, claude, the API key and the listen address; exit 1 if something would stop the agent")
    .option("--json", "print the checks as JSON")
    .action(async (flags: { json?: boolean }) => {
      // Loaded when run: the checks pull in pg and the configuration, which other commands do not need.
      const { runChecks } = await import("../../doctor/checks.js");
      const checks = await runChecks();
      if (flags.json) printJson(checks);
      else printText(checks.map((c) => `${c.level.padEnd(4)}  ${c.name.padEnd(14)}  ${c.detail}\n`).join(""));
      if (checks.some((c) => c.level === "fail")) process.exitCode = EXIT.taskFailed;
    });
}
