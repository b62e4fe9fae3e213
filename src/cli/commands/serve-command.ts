/** `ph-tasks serve` (what `npm start` runs): the whole agent in this process. */
import type { Command } from "commander";
import { loadConfig } from "../../config.js";

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the agent: reactor, task manager, event handler, MCP and HTTP server")
    .action(async () => {
      const config = loadConfig();
      // Loaded here, not at the top: the reactor, the store and the executors take a second or two
      // to load, which every client command (list, logs, submit...) would otherwise pay too.
      const { startAgent } = await import("../../agent.js");
      const agent = await startAgent(config);
      // A stray failure somewhere (a library's unawaited promise, a misbehaving process handle) is
      // logged; it must not take the agent and every running task down with it.
      process.on("unhandledRejection", (reason) => agent.logger.error({ err: reason }, "unhandled rejection (the agent keeps running)"));
      process.on("uncaughtException", (error) => agent.logger.error({ err: error }, "uncaught exception (the agent keeps running)"));
      const stop = (signal: string) => {
        agent.logger.info({ signal }, "stopping: no new tasks; running ones get the grace period");
        void agent.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            agent.logger.error({ err: error }, "stopping failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
}
