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

    // One tick later the window has moved on by one run.
    expect(await queue.scheduleCronRuns()).toBe(1);
    expect((await queue.getScheduled()).map((t) => t.scheduledAt?.toISOString())).toEqual([
      "2030-01-01T08:10:00.000Z",
      "2030-01-01T08:15:00.000Z",
      "2030-01-01T08:20:00.000Z",
    ]);
    await expect(queue.scheduleCronRuns(0)).rejects.toThrow(InvalidOptionError);
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
});
