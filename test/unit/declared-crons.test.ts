/**
 * The declared-cron reconciler on its own (memory backend): what a worker that
 * cannot resolve an entry leaves alone, and how a declared cron whose task
 * options changed is replaced. The contract suite covers the rest on every backend.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBackend, Queue, task } from "sheppy";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { newStoredCron } from "../../src/queue/cron.js";
import { parseCronExpression } from "../../src/queue/cron-expression.js";
import { parseCronConfig } from "../../src/worker/cron-config.js";
import { CONTESTED_HOLD_MS, DeclaredCrons } from "../../src/worker/declared-crons.js";
import { warningLogger } from "../support/warning-logger.js";

const job = task({ name: "unit-declared.job", retry: 1 }, (n: number) => n);
const NOW = Date.parse("2030-01-01T00:00:00Z");

/** The key the reconciler stores for `entry`, as the file parser computes it. */
function keyOf(entry: object): string {
  const read = parseCronConfig(JSON.stringify({ crons: [entry] }), "x");
  if (read.kind !== "ok" || !read.declarations[0]) throw new Error("entry did not parse");
  return read.declarations[0].key;
}

describe("DeclaredCrons", () => {
  let dir: string;
  let path: string;
  let queue: Queue;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sheppy-declared-"));
    path = join(dir, "sheppy.config.json");
    queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "jobs" });
    await queue.connect();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (crons: object[]) => writeFileSync(path, JSON.stringify({ crons }));

  test("an entry whose task this process does not define leaves the crons other workers made from it alone", async () => {
    const entry = { task: "unit-declared.elsewhere", expression: "@daily", args: [1] };
    write([entry]);
    // Made by a worker that defines the task.
    const theirs = newStoredCron(
      { name: entry.task, args: entry.args, config: job.config },
      parseCronExpression(entry.expression, "test"),
      "jobs",
      NOW,
      "config",
      keyOf(entry),
    );
    await queue.backend.addCron("jobs", theirs.deterministicId, theirs);
    const logger = warningLogger();
    const declared = new DeclaredCrons(path, [queue], logger);

    await declared.reconcile(NOW);
    expect((await queue.getCrons()).map((c) => c.deterministicId)).toEqual([
      theirs.deterministicId,
    ]);
    expect(logger.warnings).toEqual([
      expect.stringMatching(/crons\[0\] skipped: no task named 'unit-declared.elsewhere'/),
    ]);

    write([]);
    await declared.reconcile(NOW);
    expect(await queue.getCrons()).toEqual([]);
  });

  test("a declared cron whose task options changed is replaced; a code cron of the same task is kept", async () => {
    const entry = { task: "unit-declared.job", expression: "@hourly", args: [7] };
    write([entry]);
    const schedule = parseCronExpression(entry.expression, "test");
    const before = { name: entry.task, args: entry.args, config: { ...job.config, retry: 0 } };
    const outdated = newStoredCron(before, schedule, "jobs", NOW, "config", keyOf(entry));
    const code = newStoredCron(before, parseCronExpression("@daily", "test"), "jobs", NOW);
    await queue.backend.addCron("jobs", outdated.deterministicId, outdated);
    await queue.backend.addCron("jobs", code.deterministicId, code);

    await new DeclaredCrons(path, [queue], warningLogger()).reconcile(NOW);
    const crons = await queue.getCrons();
    const rows = crons.map((c) => [c.expression, c.managedBy, c.config.retry]);
    expect(rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ["@daily", null, 0],
      ["@hourly", "config", 1],
    ]);
    expect(crons.some((c) => c.deterministicId === outdated.deterministicId)).toBe(false);
  });

  test("two workers reading different files warn, and the cron stays while one still declares it", async () => {
    const entry = { task: "unit-declared.job", expression: "@hourly", args: [1] };
    write([entry]);
    const otherPath = join(dir, "other.json");
    writeFileSync(otherPath, JSON.stringify({ crons: [] }));
    const declaring = warningLogger();
    const dropping = warningLogger();
    const declares = new DeclaredCrons(path, [queue], declaring);
    const drops = new DeclaredCrons(otherPath, [queue], dropping);
    const ids = async () => (await queue.getCrons()).map((c) => c.expression);
    let now = NOW;
    const later = (ms = 10_000) => {
      now += ms;
      return now;
    };
    // A deploy under way: the old worker declares the cron, the new one's file dropped it.
    await declares.reconcile(now);
    expect(await ids()).toEqual(["@hourly"]);
    await drops.reconcile(later());
    expect(await ids()).toEqual([]);
    await declares.reconcile(later());
    expect(await ids()).toEqual(["@hourly"]);
    expect(declaring.warnings).toEqual([
      expect.stringMatching(
        /^a declared cron this worker's config file still declares was deleted by another process: workers of queue jobs read different config files/,
      ),
    ]);
    // The dropping worker sees it back: it says so, and leaves it alone for a while.
    for (let tick = 0; tick < 5; tick++) {
      await drops.reconcile(later());
      await declares.reconcile(later());
      expect(await ids()).toEqual(["@hourly"]);
    }
    expect(dropping.warnings).toEqual([
      expect.stringMatching(
        /^a declared cron this worker deleted \(its file no longer declares it\) was put back by another process: .* leaves it for 5 minutes/,
      ),
    ]);
    expect(declaring.warnings).toHaveLength(1);
    // The old worker gone, the next look after the hold deletes it for good.
    await drops.reconcile(later(CONTESTED_HOLD_MS));
    expect(await ids()).toEqual([]);
    await drops.reconcile(later());
    expect(await ids()).toEqual([]);
    expect(dropping.warnings).toHaveLength(1);
  });

  test("a worker that drops an entry and declares it again later is not taken for another worker", async () => {
    const entry = { task: "unit-declared.job", expression: "@hourly", args: [2] };
    const logger = warningLogger();
    const declared = new DeclaredCrons(path, [queue], logger);
    let now = NOW;
    for (const crons of [[entry], [], [entry], []]) {
      write(crons);
      now += 1_000;
      await declared.reconcile(now);
      expect((await queue.getCrons()).length).toBe(crons.length);
    }
    expect(logger.warnings).toEqual([]);
  });
});
