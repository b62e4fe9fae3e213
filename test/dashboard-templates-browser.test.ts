/**
 * The dashboard's Templates card in a real browser (Debian's chromium, playwright-core): the saved
 * task and pipeline templates with the parameters each uses; "Run…" opens a form with a field per
 * parameter; running one opens the task or pipeline made, which runs with the values filled in; an
 * error the API names shows in the form, nothing made; a parameter whose JSON box is ticked is sent
 * as the JSON value it holds (session 21); a read-only token sees no Run button. Also
 * (session 20's other dashboard change) a pipeline's page names the document that asked for it.
 */
import type { Server } from "node:http";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp, listen } from "../src/http/server.js";
import { silentLogger } from "../src/logger.js";
import { PipelineService } from "../src/pipelines/pipeline-service.js";
import { PipelineStore } from "../src/store/pipeline-store.js";
import { TaskStore } from "../src/store/task-store.js";
import { TemplateStore } from "../src/store/template-store.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { TemplateService } from "../src/templates/template-service.js";
import { ARTIFACTS, closeDashboard, dashboardPage, describeInChromium, launchChromium } from "./support/browser.js";
import { testManager } from "./support/manager.js";

const TOKEN = "templates-token-0123456789";
const READ_TOKEN = "templates-read-token-0123456789";

describeInChromium("the dashboard's Templates card", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let templates: TemplateService;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    store = await TaskStore.open({});
    const registry = new ExecutorRegistry().register(new CliExecutor({ allowedRoots: [process.cwd(), "/tmp"], killGraceMs: 300, captureBytes: 64 * 1024 }));
    manager = testManager(store, { maxConcurrent: 4, maxPerDocument: 10 }, registry);
    await manager.start();
    templates = new TemplateService(new TemplateStore(store.db), manager.registry);
    await templates.put("greet", { description: 'says hello <b id="pwned">loudly</b>', task: { type: "cli", title: "greet {{params.who}}", command: "echo", args: ["-n", "hello {{params.who}} from {{params.place}}"] } });
    await templates.put("tries", { task: { type: "cli", title: "try {{params.what}}", command: "echo", args: ["-n", "{{params.what}}"], maxAttempts: "{{params.tries}}" } });
    await templates.put("in-dir", { task: { type: "cli", title: "list {{params.dir}}", command: "ls", workingDirectory: "{{params.dir}}" } });
    await templates.put("release", {
      task: { pipeline: { title: "release {{params.version}}", steps: [
        { name: "build", task: { type: "cli", title: "build {{params.version}}", command: "echo", args: ["-n", "built {{params.version}}"] } },
        { name: "ship", after: ["build"], task: { type: "cli", title: "ship", command: "echo", args: ["-n", "{{steps.build.result.stdout}} shipped"] } },
      ] } },
    });
    ({ server, url: base } = await listen(createApp({ manager, metrics: manager.metrics!, logger: silentLogger(), apiToken: TOKEN, readToken: READ_TOKEN, templates }), "127.0.0.1", 0, TOKEN));
    browser = await launchChromium();
    page = await dashboardPage(browser, base, TOKEN);
  });

  afterAll(async () => {
    await closeDashboard({ browser, server, manager, store });
  });

  const openOverview = async () => {
    await page.goto(`${base}/?load=${Date.now()}#/`);
    await page.locator("#templates").waitFor();
  };
  const run = (name: string) => page.locator(`#templates tr[data-template="${name}"] button[data-action="run-template"]`).click();

  it("lists each template with its kind and parameters, the description as text", async () => {
    await openOverview();
    const rows = page.locator("#templates tbody tr");
    expect(await rows.count()).toBe(4);
    const greet = page.locator('#templates tr[data-template="greet"]');
    expect(await greet.locator(".badge").textContent()).toBe("task");
    expect(await greet.locator(".params").textContent()).toBe("place, who");
    expect(await greet.textContent()).toContain('says hello <b id="pwned">loudly</b>');
    expect(await page.locator("#pwned").count()).toBe(0);
    expect(await page.locator('#templates tr[data-template="release"] .badge').textContent()).toBe("pipeline");
    expect(await page.locator('#templates tr[data-template="release"] .params').textContent()).toBe("version");
  });

  it("runs a task template with the parameters typed in, then shows the task with its output", async () => {
    await openOverview();
    await run("greet");
    const form = page.locator('#template-form[data-template="greet"]');
    await form.locator('input[data-param="who"]').fill("Ada");
    await form.locator('input[data-param="place"]').fill("the browser");
    await form.locator("input[name=title]").fill("greeting from the card");
    await page.locator("#templates-section").screenshot({ path: path.join(ARTIFACTS, "dashboard-templates.png") });
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/#\/tasks\//);
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    await page.locator("#output", { hasText: "hello Ada from the browser" }).waitFor({ timeout: 10_000 });
    const id = decodeURIComponent(new URL(page.url()).hash.slice("#/tasks/".length));
    expect((await manager.getTask(id))?.title).toBe("greeting from the card");
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-template-task.png"), fullPage: true });
  });

  it("a refused request shows the API's error in the form and makes nothing", async () => {
    const before = (await manager.listTasks({ limit: 100, offset: 0 })).total;
    await openOverview();
    await run("in-dir");
    const form = page.locator('#template-form[data-template="in-dir"]');
    await form.locator('input[data-param="dir"]').fill("/etc");
    await form.locator("button[type=submit]").click();
    await form.locator("#template-error", { hasText: "workingDirectory" }).waitFor();
    expect(await form.locator("#template-error").textContent()).toContain("outside the allowed roots");
    expect(new URL(page.url()).hash).toBe("#/");
    expect((await manager.listTasks({ limit: 100, offset: 0 })).total).toBe(before);
  });

  it("sends a parameter as JSON when its box is ticked (a number where the task needs one); refuses what is not JSON", async () => {
    const before = (await manager.listTasks({ limit: 100, offset: 0 })).total;
    await openOverview();
    await run("tries");
    const form = page.locator('#template-form[data-template="tries"]');
    await form.locator('input[data-param="what"]').fill("42");
    await form.locator('input[data-param="tries"]').fill("2");
    // As text, "2" is no attempt count: the API names the field.
    await form.locator("button[type=submit]").click();
    await form.locator("#template-error", { hasText: "maxAttempts" }).waitFor();
    await form.locator('input[data-json="tries"]').check();
    await form.locator('input[data-param="tries"]').fill("two");
    await form.locator("button[type=submit]").click();
    await form.locator('[data-error-for="tries"]', { hasText: "is not JSON" }).waitFor();
    expect((await manager.listTasks({ limit: 100, offset: 0 })).total).toBe(before);
    await form.locator('input[data-param="tries"]').fill("2");
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/#\/tasks\//);
    await page.locator('#task-details [data-status="completed"]').waitFor({ timeout: 20_000 });
    const task = await manager.getTask(decodeURIComponent(new URL(page.url()).hash.slice("#/tasks/".length)));
    expect(task?.maxAttempts).toBe(2);
    expect(task?.title).toBe("try 42"); // "what" unticked: sent as the text it is
    expect(task?.args).toEqual(["-n", "42"]);
  });

  it("runs a pipeline template and opens the pipeline, whose steps hand their results on", async () => {
    await openOverview();
    await run("release");
    const form = page.locator('#template-form[data-template="release"]');
    await form.locator('input[data-param="version"]').fill("2.0");
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/#\/pipelines\//);
    await page.locator('#pipeline-status [data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.locator(".pipeline-title").textContent()).toBe("release 2.0");
    const ship = await page.locator('tr[data-step="ship"] a.step-task').getAttribute("href");
    const task = await manager.getTask(decodeURIComponent(ship!.slice("#/tasks/".length)));
    expect((task?.result as { stdout?: string } | undefined)?.stdout).toBe("built 2.0 shipped");
  });

  it("a pipeline a document asked for names that document on its page; one sent through the API does not", async () => {
    const steps = [{ name: "only", task: { type: "cli", title: "only", command: "true" } }];
    // As the event handler makes one for a task document: its steps linked to the document, origin "document".
    const documents = new PipelineService(new PipelineStore(store.db), manager, (inputs, { origin, ...options }) => manager.enqueueTasks(inputs.map((input) => ({ ...(input as object), source: { ...((input as { source?: object }).source ?? {}), origin } })), options));
    const { pipeline } = await documents.create({ title: "from a document", steps }, "document", { documentId: "doc-7f3a", documentType: "powerhouse/task", origin: "document", chainDepth: 0 });
    await page.goto(`${base}/?load=${Date.now()}#/pipelines/${pipeline.id}`);
    await page.locator("#pipeline-details .pipeline-document", { hasText: "doc-7f3a" }).waitFor();
    const { pipeline: sent } = await documents.create({ title: "from the API", steps });
    await page.goto(`${base}/?load=${Date.now()}#/pipelines/${sent.id}`);
    await page.locator("#pipeline-details").waitFor();
    expect(await page.locator("#pipeline-details .pipeline-document").count()).toBe(0);
  });

  it("with the read-only token lists the templates and offers no Run button", async () => {
    await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), READ_TOKEN);
    try {
      await openOverview();
      expect(await page.locator("#templates tbody tr").count()).toBe(4);
      expect(await page.locator('button[data-action="run-template"]').first().isVisible()).toBe(false);
    } finally {
      await page.evaluate((token) => localStorage.setItem("ph-tasks-token", token), TOKEN);
    }
  });
});
