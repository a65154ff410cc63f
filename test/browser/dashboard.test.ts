/**
 * The dashboard in a real browser (headless Chromium), served by
 * `sheppy dashboard` over Redis while a `sheppy work` process runs the
 * tasks: counts, a failure's stack, Retry followed live to `completed`,
 * read-only mode, and a queue of 100,000 tasks.
 * `SHEPPY_UPDATE_SCREENSHOTS=1` also writes the README's screenshots.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { Queue, type Task, Worker } from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  add,
  dozing,
  fail,
  flaky,
  flakyFlow,
  nap,
  napping,
  twoSteps,
} from "../fixtures/cli/tasks.js";
import { launchChromium, requireChromium } from "../support/browser.js";
import {
  type DashboardServer,
  redisUrlWithPrefix,
  startDashboard,
  TASKS,
  WorkerProcess,
} from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { PrivateRedis } from "../support/private-redis.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";
import { until } from "../support/until.js";

const prefix = fileKey(import.meta.url);
const url = redisUrlWithPrefix(REDIS_URL, prefix);
const available = (await requireService("Redis", REDIS_URL)) && requireChromium();
const SCREENSHOTS = process.env.SHEPPY_UPDATE_SCREENSHOTS === "1";
const env = { SHEPPY_BACKEND_URL: url };

// Skipped only outside CI when Redis or Chromium is missing; under CI=true either one fails the run.
describe.skipIf(!available)("the dashboard in Chromium, on Redis", () => {
  let browser: Browser;
  let dashboard: DashboardServer;
  let readOnly: DashboardServer;
  let worker: WorkerProcess;
  const shop = new Queue(url, { name: "shop" });
  const failing: Task[] = [fail("card declined"), fail("address unknown")];
  const flakyTask = flaky(`token-${prefix}`);

  beforeAll(async () => {
    [browser, dashboard, readOnly] = await Promise.all([
      launchChromium(),
      startDashboard(["-t", TASKS], env),
      startDashboard(["--read-only"], env),
    ]);
    worker = new WorkerProcess(["-q", "shop", "-t", TASKS], env);
    const done = [add(1, 2), add(3, 4), add(5, 6)];
    await shop.add([...done, ...failing, flakyTask]);
    await shop.schedule(add(7, 8), 3600);
    await shop.schedule(add(9, 10), 7200);
    const cancelled = add(0, 0);
    await shop.schedule(cancelled, 3600);
    await shop.cancel(cancelled.id);
    await shop.waitFor([...done, ...failing, flakyTask], { timeout: 20 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    worker?.signal("SIGTERM");
    await Promise.all([dashboard?.stop(), readOnly?.stop(), worker?.exited]);
    await shop.close();
    await deleteRedisPrefix(prefix);
  });

  async function open(server: DashboardServer, hash: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.origin}/${hash}`);
    return page;
  }

  const stat = (page: Page, status: string) => page.locator(`[data-stat="${status}"] .stat-value`);

  it("the list of queues shows every count by status", async () => {
    const page = await open(dashboard, "#/");
    const row = page.locator('[data-testid=queues] tr[data-queue="shop"]');
    await expect.poll(() => row.locator('[data-status="completed"]').textContent()).toBe("3");
    expect(await row.locator('[data-status="cancelled"]').textContent()).toBe("1");
    expect(await row.locator('[data-status="crashed"]').textContent()).toBe("0");
    // A column for the queue's name, one per count the stats give (seven), the wait, the workers.
    const headers = await page.locator("[data-testid=queues] thead th").allTextContents();
    expect(headers).toHaveLength(10);
    expect(headers.slice(-4)).toEqual(["crashed", "cancelled", "waited", "workers"]);
    expect(await row.locator('[data-status="workers"]').textContent()).toBe("1");
    expect(await row.locator('[data-status="waited"]').textContent()).toMatch(
      /^\d[\d.]* (ms|s|min)/,
    );
  });

  it("the list of queues follows new queues and pauses without a reload", async () => {
    const page = await open(dashboard, "#/");
    await expect.poll(() => page.locator('tr[data-queue="shop"]').count()).toBe(1);
    const later = new Queue(url, { name: "later" });
    try {
      await later.add(add(1, 1));
      await later.pause();
      const row = page.locator('[data-testid=queues] tr[data-queue="later"]');
      await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
      await expect
        .poll(() => row.locator("[data-testid=queue-paused]").count(), { timeout: 15_000 })
        .toBe(1);
      expect(await page.title()).toBe("Sheppy");
      // Emptied, a paused queue stays listed (it can be resumed), as does a queue of crons alone.
      await later.clear();
      await page.reload();
      await expect.poll(() => row.locator("[data-testid=queue-paused]").count()).toBe(1);
      await later.addCron(add(2, 2), "0 9 * * *");
      await later.resume();
      await page.reload();
      await expect.poll(() => row.count()).toBe(1);
      expect(await row.locator("[data-testid=queue-paused]").count()).toBe(0);
    } finally {
      await later.clear();
      await later.resume();
      await later.close();
      await page.close();
    }
  });

  it("the Workers tab lists the worker serving the queue; a queue whose tasks wait with no worker says so, and how many wait for their concurrency key", async () => {
    const page = await open(dashboard, "#/q/shop/workers");
    const rows = page.locator("[data-testid=workers] tbody tr");
    try {
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);
      const cells = await rows.first().locator("td").allTextContents();
      expect(cells[2]).toBe(String(worker.child.pid));
      expect(cells[3]).toBe("running");
      expect(cells[4]).toMatch(/^0 here · \d+ \/ 10 in all/);
      expect(cells[5]).toBe("tasks, scheduler, crons");
      expect(cells[6]).toBe("shop");
      expect(cells[8]).toMatch(/ ago$/);
      expect(await page.locator("[data-testid=no-workers]").count()).toBe(0);
      const orphan = new Queue(url, { name: "orphan" });
      try {
        // Three of one concurrency key (limit 1): one claimable, two held for the key's slot.
        for (const n of [1, 2, 3])
          await orphan.add(add(n, n), { concurrency: { key: "tenant-a" } });
        await page.goto(`${dashboard.origin}/#/q/orphan`);
        await expect
          .poll(() => page.locator("[data-testid=no-workers]").textContent(), { timeout: 15_000 })
          .toMatch(/^3 tasks pending or running, and no worker runs this queue's tasks/);
        expect(await page.locator("[data-testid=held]").textContent()).toBe("2 held for their key");
        await page.locator("[data-testid=no-workers] a").click();
        await expect.poll(() => page.locator("[data-testid=no-workers-listed]").count()).toBe(1);
      } finally {
        await orphan.clear();
        await orphan.close();
      }
    } finally {
      await page.close();
    }
  });

  it("crons show their schedule as the CLI does: an interval, and a zone other than UTC", async () => {
    const timed = new Queue(url, { name: "timed" });
    try {
      await timed.addCron(add(1, 2), { every: 15 });
      await timed.addCron(add(3, 4), "0 3 * * *", { timezone: "Europe/Berlin" });
      const page = await open(dashboard, "#/q/timed/crons");
      const cells = page.locator("[data-testid=crons] tbody tr td:nth-child(2)");
      await expect.poll(() => cells.count()).toBe(2);
      expect((await cells.allTextContents()).sort()).toEqual([
        "0 3 * * * (Europe/Berlin)",
        "every 15 s",
      ]);
      expect(await page.title()).toBe("timed · Sheppy");
      await page.close();
    } finally {
      for (const cron of await timed.getCrons()) await timed.deleteCron(cron.deterministicId);
      await timed.close();
    }
  });

  it("a cron a config file declares has no Delete button: the page says to remove it from the file", async () => {
    const declared = new Queue(url, { name: "declared" });
    const dir = mkdtempSync(join(tmpdir(), "sheppy-browser-crons-"));
    const configFile = join(dir, "sheppy.config.json");
    try {
      writeFileSync(
        configFile,
        JSON.stringify({ crons: [{ task: add(1, 1).name, expression: "@hourly", args: [5, 5] }] }),
      );
      await declared.addCron(add(6, 6), "@daily");
      const cronWorker = new Worker(declared, { configFile, processing: false, scheduler: false });
      const running = cronWorker.work();
      await expect
        .poll(async () => (await declared.getCrons()).length, { timeout: 10_000 })
        .toBe(2);
      await cronWorker.close();
      await running;
      const page = await open(dashboard, "#/q/declared/crons");
      const rows = page.locator("[data-testid=crons] tbody tr");
      await expect.poll(() => rows.count()).toBe(2);
      const fromFile = rows.filter({ hasText: "config file" });
      expect(await fromFile.getByRole("button", { name: "Delete" }).count()).toBe(0);
      expect(await fromFile.textContent()).toContain("remove it from the config file");
      const fromCode = rows.filter({ hasText: "code, CLI or HTTP API" });
      expect(await fromCode.getByRole("button", { name: "Delete" }).count()).toBe(1);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const cron of await declared.getCrons()) await declared.deleteCron(cron.deterministicId);
      await declared.close();
    }
  });

  it("a queue name nothing uses says so, with nothing to pause; at phone width the table scrolls on its own", async () => {
    const page = await open(dashboard, "#/q/shpo");
    await expect.poll(() => page.locator("[data-testid=unknown-queue]").count()).toBe(1);
    expect(await page.locator("[data-testid=pause-toggle]").count()).toBe(0);
    await page.goto(`${dashboard.origin}/#/q/shop`);
    await page.setViewportSize({ width: 375, height: 800 });
    await expect
      .poll(() => page.locator("[data-testid=tasks] tbody tr").count())
      .toBeGreaterThan(0);
    expect(await page.locator("[data-testid=unknown-queue]").count()).toBe(0);
    const pageWidth = await page.evaluate<number>("document.documentElement.scrollWidth");
    expect(pageWidth).toBeLessThanOrEqual(375);
    await page.close();
  });

  it("the overview shows the queue's counts by status", async () => {
    const page = await open(dashboard, "#/q/shop");
    await expect.poll(() => stat(page, "completed").textContent()).toBe("3");
    expect(await stat(page, "failed").textContent()).toBe("3");
    expect(await stat(page, "scheduled").textContent()).toBe("2");
    expect(await stat(page, "cancelled").textContent()).toBe("1");
    expect(await stat(page, "pending").textContent()).toBe("0");
    expect(await stat(page, "processing").textContent()).toBe("0");
    // The table lists them newest first, and a status filter narrows it.
    await page.locator('[data-filter="failed"]').click();
    await expect.poll(() => page.locator("[data-testid=tasks] tbody tr").count()).toBe(3);
    if (SCREENSHOTS) {
      // Some traffic for the live chart: a few seconds of adds, a few of them failing.
      for (let round = 0; round < 25; round++) {
        const burst = Array.from({ length: 10 + (round % 7) * 6 }, (_, i) => add(round, i));
        await shop.add(round % 6 === 5 ? [...burst, fail(`burst ${round}`)] : burst);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await page.locator('[data-filter="failed"]').click();
      await expect.poll(() => page.locator("[data-testid=tasks] tbody tr").count()).toBe(50);
      mkdirSync("docs/images", { recursive: true });
      await page.screenshot({ path: "docs/images/dashboard-overview.png" });
    }
    await page.close();
  });

  it("a task's name in the list narrows it to that name, with the status filter, in the address; its chip widens it again", async () => {
    const page = await open(dashboard, "#/q/shop");
    const rows = page.locator("[data-testid=tasks] tbody tr");
    await expect.poll(() => rows.count()).toBeGreaterThan(2);
    const failName = fail("x").name;
    await page.locator(`[data-name-filter="${failName}"]`).first().click();
    await expect.poll(() => page.url()).toMatch(new RegExp(`#/q/shop\\?name=${failName}$`));
    // The two tasks of that name ("card declined", "address unknown"), and no other.
    await expect.poll(() => rows.count()).toBe(2);
    for (const text of await rows.locator("td:nth-child(2)").allTextContents()) {
      expect(text).toBe(failName);
    }
    // With a status filter, both apply; the chip takes the name off again.
    await page.locator('[data-filter="failed"]').click();
    await expect.poll(() => page.url()).toMatch(new RegExp(`\\?status=failed&name=${failName}$`));
    await expect.poll(() => rows.count()).toBe(2);
    await page.locator(`[data-name-chip="${failName}"]`).click();
    await expect.poll(() => page.url()).toMatch(/#\/q\/shop\?status=failed$/);
    // Every failed task again: the flaky one too.
    await expect.poll(() => rows.count()).toBe(3);
    await page.close();
  });

  it("Back from a task returns to the list as it was: its status filter (in the address) and its page", async () => {
    const paged = new Queue(url, { name: "paged" });
    await paged.add(Array.from({ length: 120 }, (_, i) => add(i, 0)));
    const page = await open(dashboard, "#/q/paged");
    const rows = page.locator("[data-testid=tasks] tbody tr");
    const firstRow = () => rows.first().getAttribute("data-task-id");
    await expect.poll(() => rows.count()).toBe(50);
    await page.locator('[data-filter="pending"]').click();
    await expect.poll(() => page.url()).toMatch(/#\/q\/paged\?status=pending$/);
    const first = await firstRow();
    await page.getByRole("button", { name: "Older →" }).click();
    await expect.poll(firstRow).not.toBe(first);
    expect(await page.locator(".pager .muted").textContent()).toBe("page 2");
    const second = await firstRow();
    await page.locator(`[data-task-id="${second}"] a`).click();
    await expect.poll(() => page.locator("[data-testid=task-detail]").count()).toBe(1);
    await page.goBack();
    await expect.poll(() => page.locator(".pager .muted").textContent()).toBe("page 2");
    await expect.poll(firstRow).toBe(second);
    expect(await page.locator('[data-filter="pending"]').getAttribute("aria-pressed")).toBe("true");
    // A reload keeps the page too; a shared link opens the filter at its first page.
    await page.reload();
    await expect.poll(firstRow).toBe(second);
    const shared = await open(dashboard, "#/q/paged?status=pending");
    await expect.poll(() => shared.locator(".pager .muted").textContent()).toBe("page 1");
    expect(await shared.locator('[data-filter="pending"]').getAttribute("aria-pressed")).toBe(
      "true",
    );
    // Another filter starts from its first page; Back returns to the one before.
    await page.locator('[data-filter="failed"]').click();
    await expect.poll(() => page.url()).toMatch(/\?status=pending,failed$/);
    await expect.poll(firstRow).toBe(first);
    expect(await page.locator(".pager .muted").textContent()).toBe("page 1");
    await page.goBack();
    await expect.poll(firstRow).toBe(second);
    await Promise.all([page.close(), shared.close()]);
    await paged.clear();
    await paged.close();
  });

  it("the workflow list keeps 'only running' in the address: Back from a workflow returns to it", async () => {
    const flows = new Queue(url, { name: "flows" });
    const flowWorker = new Worker(flows, { concurrency: 4, scheduler: false });
    flowWorker.work();
    const done = await flows.addWorkflow(twoSteps(1));
    await flows.waitForWorkflow(done, { timeout: 20 });
    const running = await flows.addWorkflow(napping(60_000));
    const page = await open(dashboard, "#/q/flows/workflows");
    const rows = page.locator("[data-testid=workflows] tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel("only running").check();
    await expect.poll(() => page.url()).toMatch(/#\/q\/flows\/workflows\?running=1$/);
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().locator("a").click();
    await expect.poll(() => page.locator("[data-testid=workflow-detail]").count()).toBe(1);
    expect(page.url()).toContain(encodeURIComponent(running.id));
    await page.goBack();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.getByLabel("only running").isChecked()).toBe(true);
    // A shared link opens the same choice; unticking is a new address, and Back returns to it.
    const shared = await open(dashboard, "#/q/flows/workflows?running=1");
    await expect.poll(() => shared.locator("[data-testid=workflows] tbody tr").count()).toBe(1);
    await page.getByLabel("only running").uncheck();
    await expect.poll(() => rows.count()).toBe(2);
    await page.goBack();
    await expect.poll(() => rows.count()).toBe(1);
    await Promise.all([page.close(), shared.close()]);
    // A running step finishes when its workflow is cancelled: the forced close stops its nap.
    await flows.cancelWorkflow(running);
    await flowWorker.close({ force: true });
    await flows.clear();
    await flows.close();
  });

  it("a sleeping workflow's page shows its sleep step scheduled, due at its wake time", async () => {
    const flows = new Queue(url, { name: "flows-sleeping" });
    const flowWorker = new Worker(flows, { concurrency: 2 });
    flowWorker.work();
    const wf = await flows.addWorkflow(dozing(1, 3600));
    const asleep = await until(
      async () => {
        const steps = await flows.getWorkflowSteps(wf);
        return steps[1]?.status === "scheduled" ? steps[1] : null;
      },
      { what: "the sleep step put off", timeoutMs: 20_000 },
    );
    const page = await open(dashboard, `#/q/flows-sleeping/workflows/${encodeURIComponent(wf.id)}`);
    const row = page.locator("[data-testid=workflow-detail] table tbody tr").nth(1);
    const due = asleep.scheduledAt!.toISOString().slice(0, 19).replace("T", " ");
    await expect.poll(() => row.textContent()).toContain("sheppy.sleep");
    await expect.poll(() => row.textContent()).toContain(`due ${due}`);
    await page.close();
    await flows.cancelWorkflow(wf);
    await flowWorker.close({ force: true });
    await flows.clear();
    await flows.close();
  });

  it("a failed workflow's page offers Retry: it runs again from its failed step and completes", async () => {
    const flows = new Queue(url, { name: "flows-retry" });
    const flowWorker = new Worker(flows, { concurrency: 2, scheduler: false });
    flowWorker.work();
    // Its step fails on its first run in this process, so the workflow fails once.
    const wf = await flows.addWorkflow(flakyFlow(`browser-${Date.now()}`));
    expect((await flows.waitForWorkflow(wf, { timeout: 20 })).status).toBe("failed");
    const page = await open(dashboard, `#/q/flows-retry/workflows/${encodeURIComponent(wf.id)}`);
    const retry = page.getByRole("button", { name: "Retry workflow" });
    await expect.poll(() => retry.count()).toBe(1);
    await retry.click();
    await expect
      .poll(() => page.locator(".note").textContent())
      .toBe("Retry: done; a worker replays it and runs its failed steps again");
    expect((await flows.waitForWorkflow(wf, { timeout: 20 })).status).toBe("completed");
    // Read again as its steps finish: completed, and no button left.
    await expect
      .poll(() => page.locator("[data-testid=workflow-detail] h2").textContent())
      .toContain("completed");
    expect(await retry.count()).toBe(0);
    // Finished, it can be deleted: the page asks first, then goes back to the list.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Delete workflow" }).click();
    await expect.poll(() => page.url()).toMatch(/#\/q\/flows-retry\/workflows$/);
    expect(await flows.getWorkflow(wf.id)).toBeNull();
    await page.close();
    await flowWorker.close();
    await flows.clear();
    await flows.close();
  });

  it("a failed task's detail shows its error with the stack", async () => {
    const page = await open(dashboard, "#/q/shop");
    await page.locator('[data-filter="failed"]').click();
    await page.locator(`[data-task-id="${failing[0]!.id}"] a`).click();
    const error = page.locator("[data-testid=error]");
    await expect
      .poll(() => error.locator(".error-title").first().textContent())
      .toBe("TypeError: card declined");
    const stack = await error.locator(".stack").first().textContent();
    expect(stack).toMatch(/^TypeError: card declined\n\s+at /);
    expect(stack).toContain("tasks.ts");
    expect(await page.locator("[data-testid=args]").textContent()).toContain("card declined");
    if (SCREENSHOTS) {
      await page.screenshot({ path: "docs/images/dashboard-task.png", fullPage: true });
    }
    await page.close();
  });

  it("Retry re-queues a failed task and the page shows it completed without a reload", async () => {
    const page = await open(dashboard, `#/q/shop/tasks/${flakyTask.id}`);
    const detail = page.locator("[data-testid=task-detail]");
    await expect.poll(() => detail.getAttribute("data-status")).toBe("failed");
    // A reload would lose this mark.
    await page.evaluate(() => {
      (globalThis as unknown as { mark: string }).mark = "still here";
    });
    // A double click sends one request.
    const retries: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/retry"))
        retries.push(request.url());
    });
    await page.getByRole("button", { name: "Retry" }).dblclick();
    await expect
      .poll(() => detail.getAttribute("data-status"), { timeout: 15_000 })
      .toBe("completed");
    expect(retries).toHaveLength(1);
    expect(await page.evaluate(() => (globalThis as unknown as { mark?: string }).mark)).toBe(
      "still here",
    );
    expect(await page.locator("[data-testid=result]").textContent()).toContain("ok on run 2");
    await page.close();
  });

  it("Run now starts a task scheduled for tomorrow, and the page shows it completed without a reload", async () => {
    const tomorrow = add(20, 22);
    await shop.schedule(tomorrow, 86_400);
    const page = await open(dashboard, `#/q/shop/tasks/${tomorrow.id}`);
    const detail = page.locator("[data-testid=task-detail]");
    await expect.poll(() => detail.getAttribute("data-status")).toBe("scheduled");
    await page.getByRole("button", { name: "Run now" }).click();
    await expect
      .poll(() => detail.getAttribute("data-status"), { timeout: 15_000 })
      .toBe("completed");
    expect(await page.locator("[data-testid=result]").textContent()).toContain("42");
    expect(await page.getByRole("button", { name: "Run now" }).count()).toBe(0);
    await page.close();
  });

  it("Retry failed runs every failed task of the queue again, after asking, and says how many", async () => {
    const incident = new Queue(url, { name: "incident" });
    try {
      await incident.add([fail("outage 1"), fail("outage 2"), add(1, 1)]);
      await new Worker(incident, { handleSignals: false }).work({ oneshot: true });
      expect((await incident.stats()).failed).toBe(2);
      const page = await open(dashboard, "#/q/incident");
      const asked: string[] = [];
      page.once("dialog", (dialog) => {
        asked.push(dialog.message());
        void dialog.accept();
      });
      await page.locator("[data-testid=retry-failed]").click();
      await expect
        .poll(() => page.locator("[data-testid=redrive-message]").textContent())
        .toBe("2 failed tasks queued to run again");
      expect(asked).toEqual(["Run the 2 failed tasks again?"]);
      expect((await incident.stats()).pending).toBe(2);
      // Nothing failed any more: the button goes.
      await expect.poll(() => page.locator("[data-testid=retry-failed]").count()).toBe(0);
      await page.close();
    } finally {
      await incident.clear();
      await incident.close();
    }
  });

  it("a cron's run waiting for its fire time offers no Run now (the server refuses to start it early)", async () => {
    const nightly = new Queue(url, { name: "nightly" });
    try {
      await nightly.addCron(add(3, 3), "0 3 * * *");
      const [run] = await nightly.getScheduled();
      const page = await open(dashboard, `#/q/nightly/tasks/${run!.id}`);
      const detail = page.locator("[data-testid=task-detail]");
      await expect.poll(() => detail.getAttribute("data-status")).toBe("scheduled");
      expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(1);
      expect(await page.getByRole("button", { name: "Run now" }).count()).toBe(0);
      await page.close();
    } finally {
      for (const cron of await nightly.getCrons()) await nightly.deleteCron(cron.deterministicId);
      await nightly.clear();
      await nightly.close();
    }
  });

  it("a second click on Retry, after the first was answered but before the page shows its effect, sends nothing", async () => {
    const declined = fail("clicked twice");
    await shop.add(declined);
    await shop.waitFor(declined, { timeout: 20 });
    const page = await open(dashboard, `#/q/shop/tasks/${declined.id}`);
    const detail = page.locator("[data-testid=task-detail]");
    await expect.poll(() => detail.getAttribute("data-status")).toBe("failed");
    // The task read again after the retry answers late, as on a slow network.
    let release!: () => void;
    const answerLate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(`**/tasks/${declined.id}`, async (route) => {
      if (route.request().method() === "GET") await answerLate;
      await route.continue();
    });
    const retries: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/retry"))
        retries.push(request.url());
    });
    const retry = page.getByRole("button", { name: "Retry" });
    const answered = page.waitForResponse((response) => response.url().endsWith("/retry"));
    await retry.click();
    await answered;
    await retry.click({ force: true, timeout: 2000 }).catch(() => undefined);
    const reread = page.waitForResponse(
      (response) =>
        response.url().endsWith(`/tasks/${declined.id}`) && response.request().method() === "GET",
    );
    release();
    await reread;
    expect(await page.locator("p.note").textContent()).toBe("Retry: done");
    expect(retries).toHaveLength(1);
    await page.close();
    await shop.waitFor(declined, { timeout: 20 });
    await shop.delete(declined);
  });

  it("Cancel on a running task asks first, then cancels it", async () => {
    const sleeping = nap(60_000);
    await shop.add(sleeping);
    await expect
      .poll(async () => (await shop.getTask(sleeping))?.status, { timeout: 15_000 })
      .toBe("processing");
    const page = await open(dashboard, `#/q/shop/tasks/${sleeping.id}`);
    const detail = page.locator("[data-testid=task-detail]");
    await expect.poll(() => detail.getAttribute("data-status")).toBe("processing");
    // Its worker renews the claim: the heartbeat is recent, not past the lease.
    const heartbeat = page.locator("dl.facts div", { hasText: "heartbeat" }).locator("dd");
    expect(await heartbeat.textContent()).toMatch(/^[\d.]+ (ms|s) ago$/);
    // Its worker says it holds the task at its next heartbeat; the page, read again every 5 s, names it.
    const holder = page
      .locator("dl.facts div", { has: page.locator("dt", { hasText: /^worker$/ }) })
      .locator("dd");
    await expect.poll(() => holder.count(), { timeout: 15_000 }).toBe(1);
    expect(await holder.textContent()).toMatch(
      new RegExp(`^\\w{8} on \\S+ \\(pid ${worker.child.pid}\\)$`),
    );
    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => detail.getAttribute("data-status")).toBe("cancelled");
    expect(asked).toEqual([
      "This task is running. Cancel it? Its signal fires and whatever it does from now on is discarded.",
    ]);
    expect((await shop.getTask(sleeping))?.status).toBe("cancelled");
    await page.close();
  });

  it("behind a login (SHEPPY_DASHBOARD_PASSWORD), opened with it in the address, lists the tasks and follows them live", async () => {
    const guarded = await startDashboard([], { ...env, SHEPPY_DASHBOARD_PASSWORD: "pw" });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const { host } = new URL(guarded.origin);
      await page.goto(`http://sheppy:pw@${host}/#/q/shop`);
      await expect
        .poll(() => stat(page, "completed").textContent(), { timeout: 15_000 })
        .toMatch(/^\d+$/);
      await expect
        .poll(() => page.locator("[data-testid=tasks] [data-task-id]").count(), { timeout: 15_000 })
        .toBeGreaterThan(0);
      expect(await page.getByText("Could not read").count()).toBe(0);
      await page.close();
    } finally {
      await guarded.stop();
    }
  });

  it("read-only mode hides the buttons, and its API refuses changes", async () => {
    const page = await open(readOnly, `#/q/shop/tasks/${failing[1]!.id}`);
    const detail = page.locator("[data-testid=task-detail]");
    await expect.poll(() => detail.getAttribute("data-status")).toBe("failed");
    expect(await page.locator("[data-testid=read-only]").count()).toBe(1);
    expect(await page.locator("[data-testid=actions]").count()).toBe(0);
    expect(await page.getByRole("button", { name: /Retry|Cancel|Delete|Run now/ }).count()).toBe(0);
    // Even a same-origin POST from the page itself is refused.
    const status = await page.evaluate(async (id) => {
      const response = await fetch(`/shop/tasks/${id}/retry`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      return response.status;
    }, failing[1]!.id);
    expect(status).toBe(403);
    expect((await shop.getTask(failing[1]!.id))?.status).toBe("failed");
    await page.close();
  });

  it("Pause and Resume on the queue overview stop and restart the workers; read-only shows the state without the button", async () => {
    const page = await open(dashboard, "#/q/shop");
    const toggle = page.locator("[data-testid=pause-toggle]");
    await expect.poll(() => toggle.textContent()).toBe("Pause");
    expect(await page.locator("[data-testid=paused]").count()).toBe(0);
    await toggle.click();
    await expect.poll(() => toggle.textContent()).toBe("Resume");
    expect(await page.locator("[data-testid=paused]").count()).toBe(1);
    expect(await shop.isPaused()).toBe(true);
    const waiting = add(20, 22);
    await shop.add(waiting, { priority: 5 });
    const watcher = await open(readOnly, "#/q/shop");
    await expect.poll(() => watcher.locator("[data-testid=paused]").count()).toBe(1);
    expect(await watcher.locator("[data-testid=pause-toggle]").count()).toBe(0);
    // The task added while paused waits, and the overview says for how long.
    await expect
      .poll(() => stat(watcher, "waited").textContent(), { timeout: 15_000 })
      .toMatch(/^[1-9][\d.]* (ms|s)$/);
    await watcher.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await shop.getTask(waiting))?.status).toBe("pending");
    await toggle.click();
    await expect.poll(() => toggle.textContent()).toBe("Pause");
    expect(await page.locator("[data-testid=paused]").count()).toBe(0);
    expect((await shop.waitFor(waiting, { timeout: 15 })).result).toBe(42);
    // The task table (reloaded as tasks finish) shows each task's priority.
    await expect
      .poll(() =>
        page.locator(`[data-task-id="${waiting.id}"] [data-column=priority]`).textContent(),
      )
      .toBe("5");
    await page.close();
  });

  it("a backend that stops answering is shown as such, with the counts marked stale, until it is back", async () => {
    const server = await PrivateRedis.start();
    const privateUrl = `${server.url}?prefix=${prefix}`;
    const outage = await startDashboard([], { SHEPPY_BACKEND_URL: privateUrl });
    const queue = new Queue(privateUrl, { name: "fragile" });
    const first = add(1, 1);
    await queue.add(first);
    const page = await open(outage, "#/q/fragile");
    // What the page saw of its requests, to tell why should the problem line not come.
    const seen: string[] = [];
    const started = Date.now();
    const note = (what: string) => seen.push(`${Date.now() - started} ms ${what}`);
    page.on("request", (request) => note(`→ ${request.method()} ${request.url()}`));
    page.on("requestfinished", (request) => note(`✓ ${request.url()}`));
    page.on("requestfailed", (request) =>
      note(`× ${request.url()} ${request.failure()?.errorText}`),
    );
    page.on("console", (message) => note(`console ${message.text()}`));
    try {
      await expect.poll(() => page.locator("[data-testid=live]").textContent()).toBe("live");
      const taskPage = await open(outage, `#/q/fragile/tasks/${first.id}`);
      await expect.poll(() => taskPage.locator("[data-testid=task-detail]").count()).toBe(1);
      note("pause");
      server.pause();
      // The line comes from the stream's failed count (every 5 s, each bounded by 10 s) or, should
      // the stream drop meanwhile, from the API's own answer: either names the backend's silence.
      await expect
        .poll(
          async () => (await page.locator("[data-testid=feed-problem]").allTextContents()).join(""),
          { timeout: 45_000 },
        )
        .toMatch(/the backend did not answer|could not be reached/)
        .catch(async (error: Error) => {
          const live = await page.locator("[data-testid=live]").textContent();
          throw new Error(`${error.message}\nlive: ${live}\n${seen.join("\n")}`);
        });
      expect(await page.locator("[data-testid=live]").textContent()).toBe("not live");
      expect(await page.locator("[data-testid=stats]").getAttribute("class")).toContain("stale");
      // A task's page open through the outage says its data may be out of date too.
      await expect
        .poll(() => taskPage.locator("[data-testid=feed-problem]").count(), { timeout: 45_000 })
        .toBe(1);
      await taskPage.close();
      const resumedAt = seen.length;
      server.resume();
      await expect
        .poll(() => page.locator("[data-testid=live]").textContent(), { timeout: 30_000 })
        .toBe("live");
      expect(await page.locator("[data-testid=feed-problem]").count()).toBe(0);
      // What changed during the outage was not heard: the task list reads again.
      await expect
        .poll(() => seen.slice(resumedAt).some((line) => /→ GET \S*\/fragile\/tasks\?/.test(line)))
        .toBe(true);
    } finally {
      server.resume();
      await page.close();
      await queue.close();
      await outage.stop();
      await server.destroy();
    }
  }, 120_000);

  it("a queue of 100,000 tasks opens and answers at once (every list is paged on the server)", async () => {
    const big = new Queue(url, { name: "big" });
    const total = 100_000;
    // The oldest task of all is the one failure: a filter must reach past 99,999 others to show it.
    const needle = add(-1, -1);
    await big.add(needle);
    expect(await big.cancel(needle.id)).toMatchObject({ status: "cancelled" });
    for (let start = 0; start < total; start += 10_000) {
      await big.add(Array.from({ length: 10_000 }, (_, i) => add(start + i, 1)));
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const started = performance.now();
    await page.goto(`${dashboard.origin}/#/q/big`);
    await expect.poll(() => stat(page, "pending").textContent()).toBe("100,000");
    expect(await stat(page, "cancelled").textContent()).toBe("1");
    await expect.poll(() => page.locator("[data-testid=tasks] tbody tr").count()).toBe(50);
    const shown = performance.now() - started;
    // Interactive: the next page answers a click.
    const first = await page
      .locator("[data-testid=tasks] tbody tr")
      .first()
      .getAttribute("data-task-id");
    await page.getByRole("button", { name: "Older →" }).click();
    await expect
      .poll(() => page.locator("[data-testid=tasks] tbody tr").first().getAttribute("data-task-id"))
      .not.toBe(first);
    const paged = performance.now() - started;
    // A status filter over the whole queue finds the one cancelled task at its far end.
    await page.locator('[data-filter="cancelled"]').click();
    await expect
      .poll(
        () => page.locator("[data-testid=tasks] tbody tr").first().getAttribute("data-task-id"),
        {
          timeout: 15_000,
        },
      )
      .toBe(needle.id);
    const filtered = performance.now() - started;
    console.log(
      `dashboard with ${total.toLocaleString("en")} tasks: counts and first page shown ${shown.toFixed(0)} ms after navigation, second page ${paged.toFixed(0)} ms, the one cancelled task found by its filter ${filtered.toFixed(0)} ms`,
    );
    await page.close();
    await big.clear();
    await big.close();
  }, 120_000);
});
