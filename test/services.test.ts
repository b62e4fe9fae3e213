import { describe, expect, it } from "vitest";
import { postgresAvailable, postgresProblem, servicesRequired, TEST_DATABASE_URL } from "./support/stores.js";

describe("test services", () => {
  it(`PostgreSQL at ${TEST_DATABASE_URL} is reachable when the run requires it (REQUIRE_TEST_SERVICES=1 in CI)`, () => {
    if (servicesRequired) expect(postgresProblem, "PostgreSQL is required by this run").toBeUndefined();
    else expect(typeof postgresAvailable).toBe("boolean");
  });
});
