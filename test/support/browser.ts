/**
 * The real browser the dashboard tests drive: Debian's chromium through playwright-core. Without it
 * a test file says so and skips — unless the run requires its services (REQUIRE_TEST_SERVICES=1, as
 * CI sets after installing chromium), where that fails.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Server } from "node:http";
import { chromium, type Browser, type Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { servicesRequired } from "./stores.js";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
/** Where screenshots land. */
export const ARTIFACTS = path.resolve("test-artifacts");

/**
 * `body`'s tests in headless Chromium, under `name`: skipped, and said so, where chromium is missing
 * — and then a failing test when the run requires it (REQUIRE_TEST_SERVICES=1).
 */
export function describeInChromium(name: string, body: () => void): void {
  if (!hasChromium) console.warn(`\n*** ${CHROMIUM} not found: ${name} is SKIPPED (apt-get install chromium).${servicesRequired ? " REQUIRE_TEST_SERVICES=1: this is a failure." : ""}\n`);
  describe(name, () => {
    it("has a browser to run in when the run requires it", () => {
      if (servicesRequired) expect(hasChromium, `${CHROMIUM} is required by this run`).toBe(true);
      else expect(typeof hasChromium).toBe("boolean");
    });
    describe.skipIf(!hasChromium)("in headless Chromium", body);
  });
}

export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
}

/** A page of the dashboard at `base`, with `token` stored as the dashboard keeps it. */
export async function dashboardPage(browser: Browser, base: string, token: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/`);
  await page.evaluate((value) => localStorage.setItem("ph-tasks-token", value), token);
  return page;
}

/** Closes what a dashboard test opened, each part only if it got that far. */
export async function closeDashboard(parts: { browser?: Browser; server?: Server; manager?: { stop(graceMs: number): Promise<void> }; store?: { close(): Promise<void> } }): Promise<void> {
  await parts.browser?.close();
  parts.server?.closeAllConnections();
  await new Promise((resolve) => (parts.server ? parts.server.close(resolve) : resolve(undefined)));
  await parts.manager?.stop(0);
  await parts.store?.close();
}
