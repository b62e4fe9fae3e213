/**
 * The account the run-as-user tests switch to: nobody, which needs this test process to be root
 * (CI runs as root). Where that cannot be, the tests are reported as skipped with the reason — and
 * with REQUIRE_TEST_SERVICES=1 that is a failure (run-as-user.test.ts checks it).
 */
import { resolveRunUser, runAsProblem, type RunUser } from "../../src/tasks/executors/run-as-user.js";

const nobody = resolveRunUser("nobody");
export const runUserProblem = process.getuid?.() !== 0 ? "the tests do not run as root" : "problem" in nobody ? `no user nobody: ${nobody.problem}` : runAsProblem();
/** nobody, when runUserProblem is undefined. */
export const testRunUser: RunUser | undefined = runUserProblem === undefined && !("problem" in nobody) ? nobody : undefined;
if (runUserProblem) console.warn(`\n*** Runs as another user cannot be tested here (${runUserProblem}): SKIPPED.${process.env.REQUIRE_TEST_SERVICES === "1" ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);
