/** `ph-tasks serve` (what `npm start` runs): the whole agent in this process. */
import type { Command } from "commander";
import type { Agent } from "../../agent.js";
import { loadConfig } from "../../config.js";
import { describeUnknown, unknownVariables } from "../../unknown-variables.js";

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the agent: reactor, task manager, event handler, MCP and HTTP server")
    .action(async () => {
      const config = loadConfig();
      // Signals are heard from the start: one that comes while the agent loads and starts (its URL
      // is printed before startAgent returns) stops it gracefully once started, rather than killing
      // it half-way (a run's cgroup directory, the store, the reactor's files left as they were).
      const running: { agent?: Agent } = {};
      let stopAsked: string | undefined;
      const stop = (signal: string) => {
        const agent = running.agent;
        if (!agent) {
          stopAsked = signal;
          return;
        }
        agent.logger.info({ signal }, "stopping: no new tasks; running ones get the grace period");
        void agent.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            agent.logger.error({ err: error }, "stopping failed");
            process.exit(1);
          },
        );
      };
      const onInt = () => stop("SIGINT");
      const onTerm = () => stop("SIGTERM");
      process.once("SIGINT", onInt);
      process.once("SIGTERM", onTerm);
      try {
        // Loaded here, not at the top: the reactor, the store and the executors take a second or two
        // to load, which every client command (list, logs, submit...) would otherwise pay too.
        const { startAgent } = await import("../../agent.js");
        running.agent = await startAgent(config);
      } catch (error) {
        // Nothing started: a signal may end the process as it would have.
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        throw error;
      }
      const logger = running.agent.logger;
      const unknown = unknownVariables(process.env);
      if (unknown.length > 0) logger.warn({ variables: unknown.map((u) => u.name) }, describeUnknown(unknown));
      // A stray failure somewhere (a library's unawaited promise, a misbehaving process handle) is
      // logged; it must not take the agent and every running task down with it.
      process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection (the agent keeps running)"));
      process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception (the agent keeps running)"));
      if (stopAsked) stop(stopAsked);
    });
}
