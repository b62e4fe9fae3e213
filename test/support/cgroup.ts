/**
 * A cgroup v2 directory the tests may use as TASK_CGROUP_ROOT: made under the cgroup v2 mount
 * (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems), which takes root or a delegated
 * hierarchy. Where none can be made the cgroup tests are reported as skipped with the reason — and
 * with REQUIRE_TEST_SERVICES=1 (CI, root on Linux) that is a failure, not a skip.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import path from "node:path";
import { cgroupRootProblem } from "../../src/tasks/executors/run-cgroup.js";
import { removeV1Mirrors } from "../../src/tasks/executors/run-totals.js";

function cgroup2Mount(): string | undefined {
  try {
    const line = readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[2] === "cgroup2");
    return line?.split(" ")[1];
  } catch {
    return undefined;
  }
}

function makeTestRoot(): { root?: string; problem?: string } {
  const mount = cgroup2Mount();
  if (!mount) return { problem: "no cgroup v2 hierarchy is mounted here" };
  const root = path.join(mount, `ph-tasks-test-${randomBytes(4).toString("hex")}`);
  try {
    mkdirSync(root);
  } catch (error) {
    return { problem: `cannot make ${root}: ${(error as Error).message}` };
  }
  const problem = cgroupRootProblem(root);
  return problem ? { problem: `${root} ${problem}` } : { root };
}

const servicesRequired = process.env.REQUIRE_TEST_SERVICES === "1";
const made = makeTestRoot();
export const cgroupProblem = made.problem;
/** The tests' TASK_CGROUP_ROOT (undefined when cgroupProblem says why not). */
export const testCgroupRoot = made.root;
if (cgroupProblem) {
  console.warn(`\n*** No cgroup v2 directory for the tests (${cgroupProblem}): cgroup tests are SKIPPED.${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);
}

/** The runs' cgroups left under the test root (each run removes its own when it ends). */
export function runCgroupsLeft(): string[] {
  return testCgroupRoot ? readdirSync(testCgroupRoot).filter((name) => name.startsWith("ph-run-")) : [];
}

/** Removes the test root (and run cgroups left by a failed test, once empty). */
export function removeTestCgroupRoot(): void {
  if (!testCgroupRoot || !existsSync(testCgroupRoot)) return;
  for (const name of runCgroupsLeft()) {
    try {
      rmdirSync(path.join(testCgroupRoot, name));
    } catch {
      // still populated: a failed test's process
    }
  }
  rmdirSync(testCgroupRoot);
  removeV1Mirrors(testCgroupRoot); // where a run's totals made them (run-totals.test.ts)
}
