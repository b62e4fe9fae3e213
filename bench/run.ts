/**
 * `npm run bench`: every benchmark, one after the other, printed as markdown. Figures, not tests:
 * nothing here passes or fails. Sections whose services are missing say so instead of a number.
 */
import { benchClaudeCode } from "./claude-code.js";
import { benchCrashRecovery } from "./crash-recovery.js";
import { benchDriveBudgetCost } from "./drive-budget-cost.js";
import { benchFollowUpCost } from "./follow-up-cost.js";
import { benchManagerOverhead } from "./manager-overhead.js";
import { benchPipelineListCost } from "./pipeline-list-cost.js";
import { benchQueueThroughput } from "./queue-throughput.js";
import { benchReactorHandler } from "./reactor-handler.js";
import { benchStatsCost } from "./stats-cost.js";
import { benchStoreCopy } from "./store-copy.js";
import { benchWebhookCost } from "./webhook-cost.js";

const sections: [string, () => Promise<string>][] = [
  ["queue throughput", benchQueueThroughput],
  ["worker overhead", benchManagerOverhead],
  ["outbound webhooks", benchWebhookCost],
  ["dashboard and metrics reads", benchStatsCost],
  ["pipeline list by status", benchPipelineListCost],
  ["crash recovery", benchCrashRecovery],
  ["reactor handler overhead", benchReactorHandler],
  ["Claude Code overhead", benchClaudeCode],
  ["follow-ups", benchFollowUpCost],
  ["budget per drive", benchDriveBudgetCost],
  ["store copy", benchStoreCopy],
];

console.log(`# powerhouse-tasks benchmarks — ${new Date().toISOString()}, Node ${process.version}, ${(await import("node:os")).cpus().length} cores\n`);
for (const [name, run] of sections) {
  try {
    console.log(`${await run()}\n`);
  } catch (error) {
    console.log(`### ${name}\n\nfailed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
process.exit(0);
