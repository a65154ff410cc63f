/**
 * Crons on a `TestQueue` (TQ-15): `addCron` / `deleteCron` / `getCrons` behave
 * like the Queue's (`addCron` schedules the first runs), and
 * `scheduleCronRuns()` does what a worker's cron manager does on one tick, so a
 * `TestClock` can walk a cron through its runs.
 */
import { CronExpressionError, InvalidOptionError, task } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";

const ping = task({ name: "tq-cron.ping" }, (label: string) => `pong ${label}`);

describe("TestQueue crons", () => {
  test("TQ-15 addCron / deleteCron / getCrons behave like the Queue versions", async () => {
    const queue = new TestQueue();
    expect(await queue.addCron(ping("a"), "@hourly")).toBe(true);
    expect(await queue.addCron(ping("a"), "@hourly")).toBe(false);
    expect(await queue.addCron(ping("b"), "@hourly")).toBe(true);
    await expect(queue.addCron(ping("c"), "@sometimes")).rejects.toThrow(CronExpressionError);
    expect((await queue.getCrons()).map((c) => c.args)).toEqual([["a"], ["b"]]);
    expect(await queue.deleteCron(ping("a"), "@hourly")).toBe(true);
    expect(await queue.deleteCron(ping("a"), "@hourly")).toBe(false);
    expect((await queue.getCrons()).map((c) => c.args)).toEqual([["b"]]);
  });

  test("addCron schedules the first runs, scheduleCronRuns keeps them going; the test clock walks the cron through them", async () => {
    const clock = new TestClock(new Date("2030-01-01T08:00:30Z"));
    const queue = new TestQueue({ clock });
    await queue.addCron(ping("p"), "*/5 * * * *");
    expect((await queue.getScheduled()).map((t) => t.scheduledAt?.toISOString())).toEqual([
      "2030-01-01T08:05:00.000Z",
      "2030-01-01T08:10:00.000Z",
      "2030-01-01T08:15:00.000Z",
    ]);
    expect(await queue.scheduleCronRuns()).toBe(0);
    expect(await queue.processScheduled()).toEqual([]);

    await clock.advanceTo(new Date("2030-01-01T08:05:00Z"));
    const [first, ...rest] = await queue.processScheduled();
    expect(rest).toEqual([]);
    expect(first?.status).toBe("completed");
    expect(first?.result).toBe("pong p");
    expect(first?.scheduledAt?.toISOString()).toBe("2030-01-01T08:05:00.000Z");
    expect(first?.cronId).toBe((await queue.getCrons())[0]?.deterministicId);

    // The run was followed by a tick at its time, as a running worker's would: the window
    // has moved on by one run, and a tick now has nothing to add.
    expect((await queue.getScheduled()).map((t) => t.scheduledAt?.toISOString())).toEqual([
      "2030-01-01T08:10:00.000Z",
      "2030-01-01T08:15:00.000Z",
      "2030-01-01T08:20:00.000Z",
    ]);
    expect(await queue.scheduleCronRuns()).toBe(0);
    await expect(queue.scheduleCronRuns(0)).rejects.toThrow(InvalidOptionError);
  });

  test("advancing past many runs at once runs each of them, in order, as a worker running all along would", async () => {
    const clock = new TestClock(new Date("2030-01-01T00:00:00Z"));
    const queue = new TestQueue({ clock });
    await queue.addCron(ping("m"), { every: 60 });
    await queue.add(ping("plain"));
    await clock.advance(3600);
    const runs = await queue.processScheduled();
    expect(runs).toHaveLength(60);
    expect(
      runs.map((run) => run.scheduledAt!.getTime() - Date.parse("2030-01-01T00:00:00Z")),
    ).toEqual(Array.from({ length: 60 }, (_, i) => (i + 1) * 60_000));
    expect(runs.every((run) => run.status === "completed")).toBe(true);
    // The next runs wait for their time; a pending task is left to processAll().
    const ahead = await queue.getScheduled();
    expect(ahead.length).toBeGreaterThan(0);
    expect(ahead.every((t) => t.scheduledAt!.getTime() > clock.now())).toBe(true);
    expect((await queue.getPending()).map((t) => t.args)).toEqual([["plain"]]);
    // A cutoff before now stops there, the runs after it left scheduled.
    await clock.advance(600);
    expect(await queue.processScheduled(-300)).toHaveLength(5);
    expect(await queue.processScheduled()).toHaveLength(5);
  });

  test("scheduleCronRuns leaves no gap for a cron shorter than the cron manager's period, as a worker's tick does", async () => {
    const clock = new TestClock(new Date("2030-01-01T08:00:00Z"));
    const queue = new TestQueue({ clock });
    await queue.addCron(ping("e"), { every: 2 });
    await clock.advance(20);
    await queue.processScheduled();
    await queue.scheduleCronRuns();
    const ahead = (await queue.getScheduled()).map((t) => t.scheduledAt!.getTime());
    // Every run before the tick after next (20 s on, at the default 10 s), not only the next 3.
    const now = clock.now();
    expect(ahead.filter((at) => at > now && at <= now + 20_000)).toHaveLength(10);
  });

  test("a cron's runs end at the last time a record can hold, none stored malformed past it", async () => {
    const clock = new TestClock(new Date("9999-12-31T23:56:30Z"));
    const queue = new TestQueue({ clock });
    await queue.addCron(ping("late"), { every: 60 });
    const due = (await queue.getScheduled()).map((t) => t.scheduledAt!.toISOString());
    expect(due).toEqual([
      "9999-12-31T23:57:00.000Z",
      "9999-12-31T23:58:00.000Z",
      "9999-12-31T23:59:00.000Z",
    ]);
    await clock.advanceTo(new Date("9999-12-31T23:59:30Z"));
    const runs = await queue.processScheduled();
    expect(runs.map((run) => run.status)).toEqual(["completed", "completed", "completed"]);
    expect(await queue.getScheduled()).toEqual([]);
    expect((await queue.getCrons()).map((cron) => cron.nextRunAt)).toEqual([null]);
  });

  test("a cron's runs carry its task's concurrency key and limit, and its priority", async () => {
    const keyed = task(
      {
        name: "tq-cron.keyed",
        priority: 3,
        concurrency: { key: (tenant: string) => tenant, limit: 2 },
      },
      (tenant: string) => tenant,
    );
    const queue = new TestQueue({ clock: new TestClock(new Date("2030-01-01T00:00:00Z")) });
    await queue.addCron(keyed("acme"), { every: 60 });
    const runs = await queue.getScheduled();
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      expect([run.priority, run.concurrencyKey, run.concurrencyLimit]).toEqual([3, "acme", 2]);
    }
  });
});
