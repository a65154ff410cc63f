/**
 * Declared crons: a worker reads the cron config file on every cron-manager
 * tick and reconciles — creates declared crons (`managedBy: "config"`),
 * deletes those that left the file (removing their waiting runs), leaves
 * crons added from code alone, and changes nothing when the file is missing or
 * broken (one log line). The worker's clock is a `TestClock`; each case writes
 * its own file in a temporary directory.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CronDefinition, type Logger, type Queue, task } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceUntil } from "../support/clocks.js";
import { oneNumberArg } from "../support/schemas.js";
import { until } from "../support/until.js";

const report = task({ name: "declared.report" }, (kind: string) => `report ${kind}`);
const digest = task({ name: "declared.digest", retry: 2, timeout: 30 }, (kind: string) => kind);
const typed = task({ name: "declared.typed", args: oneNumberArg }, (n: number) => n);

const START = Date.parse("2030-01-01T08:00:30Z");

/** A logger that keeps what was logged. */
function captureLogs(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (objOrMsg: object | string, msg?: string) => {
    lines.push({ level, message: typeof objOrMsg === "string" ? objOrMsg : (msg ?? "") });
  };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

const dirs: string[] = [];

/** A config file path of this test's own; `write` replaces its content (an object is written as JSON). */
function configFile() {
  const dir = mkdtempSync(join(tmpdir(), "sheppy-crons-"));
  dirs.push(dir);
  const path = join(dir, "sheppy.config.json");
  return {
    path,
    write: (content: unknown) =>
      writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content)),
    remove: () => rmSync(path, { force: true }),
  };
}

const summary = (crons: CronDefinition[]) =>
  crons
    .map((c) => `${c.name}${JSON.stringify(c.args)} ${c.expression} ${c.managedBy ?? "code"}`)
    .sort();

export function declaredCronsCases(h: ContractHarness): void {
  describe("declared crons", () => {
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    /** A worker that only runs the cron manager (no claims, no scheduler), so runs stay visible. */
    const cronWorker = (queues: Queue | Queue[], clock: TestClock, path: string, logger: Logger) =>
      h.worker(queues, { clock, configFile: path, logger, processing: false, scheduler: false });

    it("CRON-19 / CRON-21 / CRON-22 / CRON-25 declared crons are created as config-managed; an identical code cron is not duplicated", async () => {
      const clock = new TestClock(START);
      const [first, second] = [h.queue({ clock }), h.queue({ clock })];
      const file = configFile();
      file.write({
        crons: [
          { task: "declared.report", expression: "0 9 * * 1-5", args: ["same"], queue: first.name },
          { task: "declared.digest", expression: "*/15 * * * *", args: ["a"], queue: first.name },
          { task: "declared.report", expression: "@hourly", args: ["b"], queue: second.name },
          { task: "declared.report", expression: "@daily", queue: "not-served-here" },
        ],
      });
      await first.addCron(report("code"), "@daily");
      await first.addCron(report("same"), "0 9 * * 1-5");
      const logs = captureLogs();
      void cronWorker([first, second], clock, file.path, logs).work();

      await until(async () => (await second.getCrons()).length === 1, { what: "declared crons" });
      await until(async () => (await first.getCrons()).length === 3);
      expect(summary(await first.getCrons())).toEqual([
        'declared.digest["a"] */15 * * * * config',
        'declared.report["code"] @daily code',
        'declared.report["same"] 0 9 * * 1-5 code',
      ]);
      expect(summary(await second.getCrons())).toEqual(['declared.report["b"] @hourly config']);
      // Declared crons run with the task definition's own options (decided, CRON-25).
      const declared = (await first.getCrons()).find((c) => c.managedBy === "config");
      expect(declared?.config).toEqual(digest("a").config);
      expect(declared?.config.retry).toBe(2);
      const warnings = logs.lines.filter((l) => l.level === "warn").map((l) => l.message);
      expect(warnings).toEqual([
        expect.stringMatching(
          /crons\[3\] skipped: .*queue 'not-served-here', which this worker does not serve/,
        ),
      ]);
    });

    it("CRON-22 (decided) an entry without queue: skipped with one warning by a worker serving several queues; a single-queue worker uses its queue", async () => {
      const clock = new TestClock(START);
      const [first, second] = [h.queue({ clock }), h.queue({ clock })];
      const file = configFile();
      file.write({
        crons: [
          { task: "declared.report", expression: "@hourly", args: ["anywhere"] },
          {
            task: "declared.report",
            expression: "*/10 * * * *",
            args: ["named"],
            queue: second.name,
          },
        ],
      });
      const logs = captureLogs();
      // Served in different orders: with "the first queue" as default, each would pick another.
      const both = cronWorker([first, second], clock, file.path, logs);
      void both.work();
      await until(async () => (await second.getCrons()).length === 1, { what: "the named cron" });
      await advanceUntil(clock, async () => (await second.getScheduled()).length >= 4, {
        step: 10,
        what: "several cron-manager ticks",
      });
      expect(await first.getCrons()).toEqual([]);
      expect(summary(await second.getCrons())).toEqual([
        'declared.report["named"] */10 * * * * config',
      ]);
      const warnings = logs.lines.filter((l) => l.level === "warn").map((l) => l.message);
      expect(warnings).toEqual([
        `${file.path}: crons[0] skipped: task 'declared.report' names no queue and this worker serves several (${first.name}, ${second.name}); add "queue" to the entry`,
      ]);
      await both.close();

      // A worker serving one queue keeps sending entries without queue there.
      void cronWorker(first, clock, file.path, captureLogs()).work();
      await until(async () => (await first.getCrons()).length === 1, { what: "the unnamed cron" });
      expect(summary(await first.getCrons())).toEqual([
        'declared.report["anywhere"] @hourly config',
      ]);
      expect(await second.getCrons()).toHaveLength(1);
    });

    it("CRON-20 / CRON-21 removing an entry deletes only that cron and removes its waiting runs; putting it back schedules them again; code crons survive", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const file = configFile();
      const entries = [
        { task: "declared.report", expression: "@hourly", args: ["gone"] },
        { task: "declared.report", expression: "@hourly", args: ["kept"] },
        { task: "declared.report", expression: "@daily", args: ["same"] },
      ];
      file.write({ crons: entries });
      await queue.addCron(report("code"), "@hourly");
      await queue.addCron(report("same"), "@daily");
      const worker = cronWorker(queue, clock, file.path, captureLogs());
      void worker.work();
      await until(async () => (await queue.getScheduled()).length === 12, {
        what: "runs of 4 crons",
      });
      const gone = (await queue.getCrons()).find((c) => c.args[0] === "gone")!;

      const runsOf = async (cronId: string) =>
        (await queue.getAllTasks()).filter((t) => t.cronId === cronId);
      file.write({ crons: [entries[1]] });
      // The cron goes first, then its runs, one call after another: wait for both, not only the
      // first (on a backend whose calls take a few milliseconds the runs may still be going).
      await advanceUntil(
        clock,
        async () =>
          (await queue.getCrons()).length === 3 &&
          // Its waiting runs are removed, not kept as `cancelled` records holding their ids.
          (await runsOf(gone.deterministicId)).length === 0,
        { step: 10, what: "the removed cron deleted, with its waiting runs" },
      );
      expect(summary(await queue.getCrons())).toEqual([
        'declared.report["code"] @hourly code',
        'declared.report["kept"] @hourly config',
        'declared.report["same"] @daily code',
      ]);

      // The entry comes back: the same cron, and its next 3 runs are scheduled again.
      file.write({ crons: entries });
      await advanceUntil(clock, async () => (await runsOf(gone.deterministicId)).length === 3, {
        step: 10,
        what: "the re-declared cron's runs",
      });
      expect((await runsOf(gone.deterministicId)).map((t) => t.status)).toEqual([
        "scheduled",
        "scheduled",
        "scheduled",
      ]);
    });

    it("CRON-16 / CRON-17 / CRON-18 a broken or missing file changes nothing and logs one line; a file without crons removes them", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const file = configFile();
      file.write({ crons: [{ task: "declared.report", expression: "* * * * *", args: ["x"] }] });
      await queue.addCron(report("code"), "@daily");
      const logs = captureLogs();
      void cronWorker(queue, clock, file.path, logs).work();
      const scheduledCount = async () => (await queue.getScheduled()).length;
      // The tick that adds the declared cron schedules the runs of both after it: wait for those
      // too, or they could land after the count below and pass for ticks that read the file again.
      await until(
        async () => (await queue.getCrons()).length === 2 && (await scheduledCount()) === 6,
        { what: "declared cron, and the first runs of both crons" },
      );
      const before = summary(await queue.getCrons());

      /** Moves the clock two minutes; the every-minute cron gains runs, proving the manager kept ticking. */
      const severalTicks = async () => {
        const runs = await scheduledCount();
        await advanceUntil(clock, async () => (await scheduledCount()) >= runs + 2, {
          step: 10,
          what: "more runs scheduled",
        });
      };
      const said = (pattern: RegExp) => logs.lines.filter((l) => pattern.test(l.message));

      file.write('{ "crons": [');
      await severalTicks();
      expect(summary(await queue.getCrons())).toEqual(before);
      expect(said(/is not valid JSON/)).toHaveLength(1);
      expect(said(/not valid JSON/)[0]).toMatchObject({ level: "warn" });
      expect(said(/not valid JSON/)[0]?.message).toContain(file.path);

      file.write({ crons: { task: "declared.report" } });
      await severalTicks();
      expect(summary(await queue.getCrons())).toEqual(before);
      expect(said(/has 'crons' that is not a list/)).toHaveLength(1);

      file.remove();
      await severalTicks();
      expect(summary(await queue.getCrons())).toEqual(before);
      expect(said(/no cron config file at/)).toEqual([
        {
          level: "info",
          message: `no cron config file at ${file.path}; declared crons left unchanged`,
        },
      ]);

      file.write({});
      await advanceUntil(clock, async () => (await queue.getCrons()).length === 1, {
        step: 10,
        what: "declared cron removed",
      });
      expect(summary(await queue.getCrons())).toEqual(['declared.report["code"] @daily code']);
    });

    it("a missing file is said at debug where no file declared crons, at info where the queue holds crons one declared", async () => {
      const clock = new TestClock(START);
      const [plain, declared] = [h.queue({ clock }), h.queue({ clock })];
      const earlier = configFile();
      earlier.write({ crons: [{ task: "declared.report", expression: "@daily", args: ["x"] }] });
      const first = cronWorker(declared, clock, earlier.path, captureLogs());
      void first.work();
      await until(async () => (await declared.getCrons()).length === 1, {
        what: "the declared cron",
      });
      await first.close();

      // Started from another directory: the file is not where these workers look.
      const nowhere = configFile().path;
      const [quiet, noted] = [captureLogs(), captureLogs()];
      void cronWorker(plain, clock, nowhere, quiet).work();
      void cronWorker(declared, clock, nowhere, noted).work();
      const missing = `no cron config file at ${nowhere}; declared crons left unchanged`;
      await until(
        async () =>
          quiet.lines.some((l) => l.message === missing) &&
          noted.lines.some((l) => l.message === missing),
        { what: "both workers to read their file" },
      );
      expect(quiet.lines.filter((l) => l.message === missing)).toEqual([
        { level: "debug", message: missing },
      ]);
      expect(noted.lines.filter((l) => l.message === missing)).toEqual([
        { level: "info", message: missing },
      ]);
      expect(summary(await declared.getCrons())).toEqual(['declared.report["x"] @daily config']);
    });

    it("CRON-15 / CRON-23 invalid entries are skipped one by one with a log line each; the others apply", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const file = configFile();
      const entries: unknown[] = [
        { task: "declared.report", expression: "@daily", args: ["ok"] },
        { expression: "@daily" },
        { task: "declared.report", expression: "  " },
        { task: "declared.report", expression: "@daily", args: "ok" },
        { task: "declared.report", expression: "@daily", queue: 5 },
        { task: "declared.report", expression: "61 * * * *" },
        { task: "declared.nowhere", expression: "@daily" },
        { task: "declared.typed", expression: "@daily", args: ["not a number"] },
        { task: "declared.report", expresion: "@daily" },
        "declared.report @daily",
        { task: "declared.typed", expression: "@weekly", args: ["42"] },
        // The task that moves a workflow on is registered, but never one to schedule.
        { task: "workflow:declared.report", expression: "@daily" },
      ];
      file.write({ crons: entries });
      const logs = captureLogs();
      void cronWorker(queue, clock, file.path, logs).work();
      await until(async () => (await queue.getCrons()).length === 2, { what: "the valid crons" });
      expect(summary(await queue.getCrons())).toEqual([
        'declared.report["ok"] @daily config',
        "declared.typed[42] @weekly config",
      ]);
      // The file's arguments went through the task's args schema, as the factory's do.
      expect((await queue.getCrons()).find((c) => c.name === "declared.typed")?.args).toEqual(
        typed("42").args,
      );
      const warnings = logs.lines.filter((l) => l.level === "warn").map((l) => l.message);
      expect(warnings).toEqual([
        expect.stringMatching(/crons\[1\] skipped: 'task' must be a registered task name/),
        expect.stringMatching(/crons\[2\] skipped: 'expression' of task 'declared.report' must be/),
        expect.stringMatching(
          /crons\[3\] skipped: 'args' of task 'declared.report' must be a list/,
        ),
        expect.stringMatching(/crons\[4\] skipped: 'queue' of task 'declared.report' must be/),
        expect.stringMatching(/crons\[5\] skipped: .*invalid cron expression '61 \* \* \* \*'/),
        expect.stringMatching(/crons\[8\] skipped: unknown field 'expresion'/),
        expect.stringMatching(/crons\[9\] skipped: an entry must be an object/),
        expect.stringMatching(/crons\[6\] skipped: no task named 'declared.nowhere'/),
        expect.stringMatching(/crons\[7\] skipped: invalid arguments for task 'declared.typed'/),
        expect.stringMatching(
          /crons\[11\] skipped: 'workflow:declared.report' is the task that moves workflow 'declared.report' on, not a task of yours/,
        ),
      ]);
      // The tasks a warning lists as known are the user's: no workflow's resume task among them.
      expect(warnings.join("\n")).not.toMatch(/known: [^)]*workflow:/);
      // Logged once while the problems last, not on every tick: a later reconcile (it picks
      // up one more entry) logs nothing new.
      file.write({
        crons: [...entries, { task: "declared.report", expression: "@daily", args: ["more"] }],
      });
      await advanceUntil(clock, async () => (await queue.getCrons()).length === 3, {
        step: 10,
        what: "the added entry reconciled",
      });
      expect(logs.lines.filter((l) => l.level === "warn")).toHaveLength(10);
    });

    it("entries with 'every' or a 'timezone' become the crons addCron makes (same ids), with their runs; removing one deletes it and its runs", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const file = configFile();
      const zoned = {
        task: "declared.report",
        expression: "30 2 * * *",
        timezone: "europe/berlin",
        args: ["berlin"],
      };
      file.write({ crons: [{ task: "declared.report", every: 30, args: ["pulse"] }, zoned] });
      const logs = captureLogs();
      void cronWorker(queue, clock, file.path, logs).work();
      await until(async () => (await queue.getScheduled()).length === 6, { what: "six runs" });
      const crons = await queue.getCrons();
      expect(
        crons.map((c) => [c.args[0], c.expression, c.every, c.timezone, c.managedBy]).sort(),
      ).toEqual([
        ["berlin", "30 2 * * *", null, "Europe/Berlin", "config"],
        ["pulse", null, 30, null, "config"],
      ]);
      expect(await queue.addCron(report("pulse"), { every: 30 })).toBe(false);
      expect(
        await queue.addCron(report("berlin"), "30 2 * * *", { timezone: "Europe/Berlin" }),
      ).toBe(false);
      const runs = (await queue.getScheduled()).map(
        (t) => `${t.args[0]} ${t.scheduledAt?.toISOString()}`,
      );
      expect(runs.sort()).toEqual([
        "berlin 2030-01-02T01:30:00.000Z",
        "berlin 2030-01-03T01:30:00.000Z",
        "berlin 2030-01-04T01:30:00.000Z",
        "pulse 2030-01-01T08:01:00.000Z",
        "pulse 2030-01-01T08:01:30.000Z",
        "pulse 2030-01-01T08:02:00.000Z",
      ]);
      expect(logs.lines.filter((l) => l.level === "warn")).toEqual([]);

      file.write({ crons: [zoned] });
      // The cron goes first, then its waiting runs: wait for both.
      const left = async () => (await queue.getScheduled()).map((t) => t.args[0]);
      await advanceUntil(
        clock,
        async () =>
          (await queue.getCrons()).length === 1 && (await left()).every((a) => a === "berlin"),
        {
          step: 5,
          notAfter: Date.parse("2030-01-01T08:00:59Z"),
          what: "the 'every' cron and its runs removed",
        },
      );
      expect((await queue.getCrons())[0]?.timezone).toBe("Europe/Berlin");
      expect(await left()).toEqual(["berlin", "berlin", "berlin"]);
    });

    it("two workers (on Redis: each on its own backend instance and connections) reconciling one file create each declared cron once", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const other = h.sibling(queue, { clock });
      const file = configFile();
      file.write({
        crons: [
          { task: "declared.report", expression: "*/10 * * * *", args: ["one"] },
          { task: "declared.digest", expression: "@hourly", args: ["two"] },
        ],
      });
      void cronWorker(queue, clock, file.path, captureLogs()).work();
      void cronWorker(other, clock, file.path, captureLogs()).work();
      await until(async () => (await queue.getScheduled()).length === 6, {
        what: "runs of both crons",
      });
      await advanceUntil(clock, async () => (await queue.getScheduled()).length === 7, {
        step: 10,
        what: "the 08:40 run",
      });
      expect(summary(await queue.getCrons())).toEqual([
        'declared.digest["two"] @hourly config',
        'declared.report["one"] */10 * * * * config',
      ]);
      const times = (await queue.getScheduled()).map(
        (t) => `${t.name} ${t.scheduledAt?.toISOString()}`,
      );
      expect(new Set(times).size).toBe(times.length);
    });

    it("(real clock) a worker picks up a declared cron, then drops it when the entry leaves the file", async () => {
      const queue = h.queue();
      const file = configFile();
      file.write({
        crons: [{ task: "declared.report", expression: "0 0 1 1 *", args: ["yearly"] }],
      });
      const worker = h.worker(queue, {
        configFile: file.path,
        logger: captureLogs(),
        processing: false,
        scheduler: false,
        cronInterval: 0.05,
      });
      void worker.work();
      await until(async () => (await queue.getCrons()).length === 1, { what: "the declared cron" });
      expect(summary(await queue.getCrons())).toEqual([
        'declared.report["yearly"] 0 0 1 1 * config',
      ]);
      file.write({ crons: [] });
      // The cron goes first, then its waiting runs: wait for both.
      await until(
        async () =>
          (await queue.getCrons()).length === 0 && (await queue.getScheduled()).length === 0,
        { what: "the cron and its runs to go" },
      );
      expect(await queue.getCrons()).toEqual([]);
    });
  });
}
