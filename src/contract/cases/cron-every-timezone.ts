/**
 * Crons beyond UTC cron text: `{ every: seconds }` (fire times at the
 * multiples of the interval since the epoch; two workers make one task per
 * fire time) and cron text read in an IANA time zone across daylight-saving
 * changes (croner's rules: a skipped time runs at the first valid time after
 * the gap, a repeated time runs once, at its first occurrence). Also: a cron
 * stored by an older version, without these fields, still loads and keeps its
 * id. Time runs on a `TestClock`; nothing waits for real time.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CronData } from "../../backends/backend.js";
import { CronExpressionError, currentTask, InvalidOptionError, task } from "../../index.js";
import type { JsonValue } from "../../json.js";
import { cronDeterministicId } from "../../queue/cron.js";
import { MAX_EVERY_SECONDS } from "../../queue/cron-schedule.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceUntil } from "../support/clocks.js";
import { PerTest, until } from "../support/until.js";

const poll = task({ name: "cron-every.poll" }, (inbox: string) => `polled ${inbox}`);

/** Ids of the runs that executed, per test. */
const executed = new PerTest<string[]>(() => []);
const beat = task({ name: "cron-every.beat" }, (token: string) => {
  executed.get(token).push(currentTask().id);
  return "beat";
});

const at = (iso: string) => Date.parse(iso);
const isoOf = (d: Date | null | undefined) => d?.toISOString();

export function cronEveryTimezoneCases(h: ContractHarness): void {
  describe("cron: every N seconds, time zones", () => {
    it("CRON-EVERY-1 { every: 30 } with two workers (on Redis: each on its own backend instance): fire times at :00 and :30, exactly one task each, run once", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:10Z"));
      const queue = h.queue({ clock });
      const other = h.sibling(queue, { clock });
      const token = randomUUID();
      expect(await queue.addCron(beat(token), { every: 30 })).toBe(true);
      const [cron] = await queue.getCrons();
      const workers = [h.worker(queue, { clock }), h.worker(other, { clock })];
      const running = workers.map((w) => w.work());

      const runsOf = async () =>
        (await queue.getAllTasks()).filter((t) => t.cronId === cron?.deterministicId);
      const completed = async () => (await runsOf()).filter((t) => t.status === "completed");
      await advanceUntil(clock, async () => (await completed()).length >= 4, {
        step: 5,
        what: "four runs completed",
      });
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(running);

      const runs = await runsOf();
      expect(new Set(runs.map((t) => t.scheduledAt!.getTime())).size).toBe(runs.length);
      expect(new Set(runs.map((t) => t.id)).size).toBe(runs.length);
      for (const run of runs) expect(run.scheduledAt!.getTime() % 30_000).toBe(0);
      const done = (await completed()).map((t) => isoOf(t.scheduledAt)).sort();
      expect(done.slice(0, 4)).toEqual([
        "2030-01-01T08:00:30.000Z",
        "2030-01-01T08:01:00.000Z",
        "2030-01-01T08:01:30.000Z",
        "2030-01-01T08:02:00.000Z",
      ]);
      const ran = executed.get(token);
      expect(new Set(ran).size).toBe(ran.length);
      expect([...ran].sort()).toEqual((await completed()).map((t) => t.id).sort());
    });

    it("CRON-EVERY-2 an interval shorter than the cron manager's period leaves no gap: runs are scheduled up to two periods ahead", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:01Z"));
      const queue = h.queue({ clock });
      await queue.addCron(poll("fast"), { every: 2 });
      // cronInterval 10 s (the default): the first tick schedules every run up to 08:00:21.
      const worker = h.worker(queue, { clock, processing: false, scheduler: false });
      const running = worker.work();
      const runs = await until(async () => {
        const scheduled = await queue.getScheduled();
        return scheduled.length >= 10 ? scheduled : null;
      });
      await worker.close();
      await running;
      const times = runs.map((t) => t.scheduledAt!.getTime());
      expect(isoOf(runs[0]?.scheduledAt)).toBe("2030-01-01T08:00:02.000Z");
      expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(times.slice(1).map(() => 2000));
      expect(times.at(-1)).toBeGreaterThanOrEqual(at("2030-01-01T08:00:20Z"));
    });

    it("CRON-EVERY-3 getCrons shows the interval; { every } is its own cron; deleteCron takes it; bad input is refused naming the call, storing nothing", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:10Z"));
      const queue = h.queue({ clock });
      expect(await queue.addCron(poll("a"), { every: 30 })).toBe(true);
      expect(await queue.addCron(poll("a"), { every: 30 })).toBe(false);
      expect(await queue.addCron(poll("a"), { every: 60 })).toBe(true);
      expect(await queue.addCron(poll("a"), "* * * * *")).toBe(true);
      const crons = await queue.getCrons();
      expect(new Set(crons.map((c) => c.deterministicId)).size).toBe(3);
      const every30 = crons.find((c) => c.every === 30);
      expect(every30).toMatchObject({
        expression: null,
        every: 30,
        timezone: null,
        nextRunAt: new Date(at("2030-01-01T08:00:30Z")),
      });
      expect(crons.find((c) => c.expression === "* * * * *")).toMatchObject({
        every: null,
        timezone: "UTC",
      });

      const rejected: [unknown, unknown, RegExp][] = [
        [{ every: 0 }, undefined, /'every' must be a whole number of seconds from 1 to/],
        [{ every: -5 }, undefined, /got -5/],
        [{ every: 1.5 }, undefined, /got 1\.5/],
        [{ every: Number.NaN }, undefined, /got NaN/],
        [{ every: "30" }, undefined, /got "30"/],
        [{ every: MAX_EVERY_SECONDS + 1 }, undefined, /from 1 to 31622400/],
        [{}, undefined, /got undefined/],
        [{ seconds: 30 }, undefined, /takes only 'every' \(got 'seconds'\)/],
        [{ every: 30, timezone: "UTC" }, undefined, /a time zone is an option/],
        [{ every: 30 }, { timezone: "Europe/Berlin" }, /not to \{ every \}/],
        ["@daily", { tz: "Europe/Berlin" }, /unknown option 'tz'/],
      ];
      for (const [schedule, options, message] of rejected) {
        const attempt = queue.addCron(poll("bad"), schedule as never, options as never);
        await expect(attempt).rejects.toThrow(CronExpressionError);
        await expect(
          queue.addCron(poll("bad"), schedule as never, options as never),
        ).rejects.toThrow(message);
      }
      const error = await queue.addCron(poll("bad"), { every: 0 }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^queue\.addCron\(\): /);
      expect((error as Error).message).not.toContain("\n");
      expect(await queue.getCrons()).toHaveLength(3);

      expect(await queue.deleteCron(poll("a"), { every: 30 })).toBe(true);
      expect(await queue.deleteCron(poll("a"), { every: 30 })).toBe(false);
      expect((await queue.getCrons()).map((c) => c.every)).not.toContain(30);
    });

    it("CRON-TZ-1 a timezone is checked and spelled canonically at add time; UTC given or not is the same cron", async () => {
      const queue = h.queue();
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "Europe/Berlin" })).toBe(true);
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "europe/berlin" })).toBe(
        false,
      );
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "America/New_York" })).toBe(
        true,
      );
      expect(await queue.addCron(poll("z"), "0 9 * * *")).toBe(true);
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "UTC" })).toBe(false);
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "Etc/UTC" })).toBe(false);
      // An alias is the zone it stands for, stored by that zone's IANA name (never ICU's older spelling).
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "US/Eastern" })).toBe(false);
      expect(await queue.addCron(poll("z"), "0 9 * * *", { timezone: "Zulu" })).toBe(false);
      const zones = (await queue.getCrons()).map((c) => c.timezone).sort();
      expect(zones).toEqual(["America/New_York", "Europe/Berlin", "UTC"]);
      const kolkata = h.queue();
      expect(await kolkata.addCron(poll("k"), "0 9 * * *", { timezone: "Asia/Kolkata" })).toBe(
        true,
      );
      expect(await kolkata.addCron(poll("k"), "0 9 * * *", { timezone: "Asia/Calcutta" })).toBe(
        false,
      );
      // A country's own zone is kept, even where its clocks match another's.
      expect(await kolkata.addCron(poll("k"), "0 9 * * *", { timezone: "Europe/Bratislava" })).toBe(
        true,
      );
      expect((await kolkata.getCrons()).map((c) => c.timezone).sort()).toEqual([
        "Asia/Kolkata",
        "Europe/Bratislava",
      ]);

      const unknown = queue.addCron(poll("z"), "0 9 * * *", { timezone: "Mars/Olympus" });
      await expect(unknown).rejects.toThrow(CronExpressionError);
      await expect(
        queue.addCron(poll("z"), "0 9 * * *", { timezone: "Mars/Olympus" }),
      ).rejects.toThrow(/^queue\.addCron\(\): unknown time zone 'Mars\/Olympus'; use an IANA name/);
      await expect(queue.addCron(poll("z"), "0 9 * * *", { timezone: "" })).rejects.toThrow(
        /timezone must be an IANA time zone name/,
      );
      expect(await queue.getCrons()).toHaveLength(3);
      expect(await queue.deleteCron(poll("z"), "0 9 * * *", { timezone: "Europe/Berlin" })).toBe(
        true,
      );
      expect(await queue.getCrons()).toHaveLength(2);
    });

    it("CRON-TZ-1b deleteCron naming a cron's task and times but not the time zone or task options it was added with is refused, naming that cron; nothing is deleted", async () => {
      const queue = h.queue();
      expect(await queue.addCron(poll("b"), "30 2 * * *", { timezone: "Europe/Berlin" })).toBe(
        true,
      );
      const [berlin] = await queue.getCrons();
      const refused = queue.deleteCron(poll("b"), "30 2 * * *");
      await expect(refused).rejects.toThrow(InvalidOptionError);
      await expect(queue.deleteCron(poll("b"), "30 2 * * *")).rejects.toThrow(
        `queue.deleteCron(): no cron of task 'cron-every.poll' at "30 2 * * *" in UTC with these task options; the queue has one of that task at those times added otherwise: ${berlin!.deterministicId} (timezone 'Europe/Berlin'). Pass the { timezone } and task options it was added with, or delete it by id: queue.deleteCron(id)`,
      );
      // The same task added with other options (by a deploy that has changed them since) is named too.
      const earlier = poll("d");
      const earlierId = cronDeterministicId(
        { ...earlier, config: { ...earlier.config, retry: 2 } },
        "0 4 * * *",
      );
      const stored: CronData = {
        v: 1,
        id: randomUUID(),
        deterministicId: earlierId,
        name: earlier.name,
        args: ["d"],
        config: { ...earlier.config, retry: 2 } as unknown as JsonValue,
        expression: "0 4 * * *",
        queue: queue.name,
        createdAt: "2029-12-31T00:00:00.000Z",
      };
      expect(await queue.backend.addCron(queue.name, earlierId, stored)).toBe(true);
      await expect(queue.deleteCron(poll("d"), "0 4 * * *")).rejects.toThrow(
        `added otherwise: ${earlierId} (other task options). Pass`,
      );
      expect(await queue.deleteCron(earlierId)).toBe(true);
      // Other arguments, or other times, are another cron: none, so false.
      expect(await queue.deleteCron(poll("c"), "30 2 * * *")).toBe(false);
      expect(await queue.deleteCron(poll("b"), "30 3 * * *")).toBe(false);
      expect(await queue.getCrons()).toHaveLength(1);
      expect(await queue.deleteCron(poll("b"), "30 2 * * *", { timezone: "Europe/Berlin" })).toBe(
        true,
      );
      expect(await queue.deleteCron(poll("b"), "30 2 * * *")).toBe(false);
    });

    it("CRON-TZ-2 '30 2 * * *' in Europe/Berlin across the spring-forward day: 02:30 does not exist, so that day's run fires at 03:00 CEST; the runs execute at those instants", async () => {
      // 2030-03-31: clocks go from 02:00 CET (01:00Z) to 03:00 CEST.
      const clock = new TestClock(at("2030-03-30T01:00:00Z"));
      const queue = h.queue({ clock });
      const token = randomUUID();
      await queue.addCron(beat(token), "30 2 * * *", { timezone: "Europe/Berlin" });
      const [cron] = await queue.getCrons();
      expect(isoOf(cron?.nextRunAt)).toBe("2030-03-30T01:30:00.000Z");
      // Two days of fake time in 15-minute steps: the worker's loops tick at coarse
      // intervals too, since a TestClock fires every timer that falls inside a step.
      const worker = h.worker(queue, {
        clock,
        schedulerInterval: 300,
        cronInterval: 3600,
        reclaimInterval: 3600,
        expiryInterval: 3600,
      });
      const running = worker.work();
      const instants = [
        "2030-03-30T01:30:00.000Z", // 02:30 CET
        "2030-03-31T01:00:00.000Z", // 03:00 CEST: the first valid time after the gap
        "2030-04-01T00:30:00.000Z", // 02:30 CEST
      ];
      // Time never passes the next run's instant before the run due earlier has started:
      // a networked backend on a busy machine may take longer than a few steps to claim it.
      for (const [i, instant] of instants.entries()) {
        const next = instants[i + 1];
        await advanceUntil(
          clock,
          async () =>
            (await queue.getAllTasks()).some(
              (t) => isoOf(t.scheduledAt) === instant && t.startedAt !== null,
            ),
          {
            step: 900,
            what: `the run of ${instant} started`,
            timeoutMs: 30_000,
            ...(next === undefined ? {} : { notAfter: at(next) - 1 }),
          },
        );
      }
      const completed = async () =>
        (await queue.getAllTasks()).filter((t) => t.status === "completed");
      await advanceUntil(clock, async () => (await completed()).length >= 3, {
        step: 900,
        what: "three runs completed",
        timeoutMs: 30_000,
      });
      await worker.close();
      await running;
      const done = (await completed()).sort(
        (a, b) => a.scheduledAt!.getTime() - b.scheduledAt!.getTime(),
      );
      expect(done.map((t) => isoOf(t.scheduledAt))).toEqual(instants);
      // Each run started at or after its instant and before the next one's.
      done.forEach((run, i) => {
        expect(run.startedAt!.getTime()).toBeGreaterThanOrEqual(run.scheduledAt!.getTime());
        const next = done[i + 1]?.scheduledAt?.getTime() ?? Number.POSITIVE_INFINITY;
        expect(run.startedAt!.getTime()).toBeLessThan(next);
      });
      expect(executed.get(token)).toHaveLength(3);
    });

    it("CRON-TZ-3 across the fall-back day a repeated time fires once, at its first occurrence (Europe/Berlin 02:30, America/New_York 01:30)", async () => {
      const scheduledFrom = async (start: string, expression: string, timezone: string) => {
        const clock = new TestClock(at(start));
        const queue = h.queue({ clock });
        await queue.addCron(poll(timezone), expression, { timezone });
        const worker = h.worker(queue, { clock, processing: false, scheduler: false });
        const running = worker.work();
        const runs = await until(async () => {
          const scheduled = await queue.getScheduled();
          return scheduled.length === 3 ? scheduled : null;
        });
        await worker.close();
        await running;
        return runs.map((t) => isoOf(t.scheduledAt));
      };
      // 2030-10-27: Berlin goes from 03:00 CEST (01:00Z) back to 02:00 CET; 02:30 happens twice.
      expect(await scheduledFrom("2030-10-26T00:00:00Z", "30 2 * * *", "Europe/Berlin")).toEqual([
        "2030-10-26T00:30:00.000Z", // 02:30 CEST
        "2030-10-27T00:30:00.000Z", // 02:30 CEST, the first of the two; not again at 01:30Z
        "2030-10-28T01:30:00.000Z", // 02:30 CET
      ]);
      // 2030-11-03: New York goes from 02:00 EDT (06:00Z) back to 01:00 EST; 01:30 happens twice.
      expect(await scheduledFrom("2030-11-02T00:00:00Z", "30 1 * * *", "America/New_York")).toEqual(
        [
          "2030-11-02T05:30:00.000Z", // 01:30 EDT
          "2030-11-03T05:30:00.000Z", // 01:30 EDT, the first of the two; not again at 06:30Z
          "2030-11-04T06:30:00.000Z", // 01:30 EST
        ],
      );
    });

    it("CRON-LEGACY-1 a cron stored by an older version (no interval or zone fields) loads, keeps its id, and its runs are scheduled", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:30Z"));
      const queue = h.queue({ clock });
      const t = poll("legacy");
      const id = cronDeterministicId(t, "*/5 * * * *");
      // Exactly what earlier versions stored; the oldest lacked `managedBy` and `declaration` too.
      const stored: CronData = {
        v: 1,
        id: randomUUID(),
        deterministicId: id,
        name: t.name,
        args: ["legacy"],
        config: t.config as unknown as JsonValue,
        expression: "*/5 * * * *",
        queue: queue.name,
        createdAt: "2029-12-31T00:00:00.000Z",
      };
      await queue.getCrons(); // connects the queue's backend
      expect(await queue.backend.addCron(queue.name, id, stored)).toBe(true);

      expect(await queue.addCron(poll("legacy"), "*/5 * * * *")).toBe(false);
      expect(await queue.addCron(poll("legacy"), "*/5 * * * *", { timezone: "UTC" })).toBe(false);
      const [cron] = await queue.getCrons();
      expect(cron).toMatchObject({
        deterministicId: id,
        expression: "*/5 * * * *",
        every: null,
        timezone: "UTC",
        managedBy: null,
        nextRunAt: new Date(at("2030-01-01T08:05:00Z")),
      });
      const worker = h.worker(queue, { clock, processing: false, scheduler: false });
      const running = worker.work();
      const runs = await until(async () => {
        const scheduled = await queue.getScheduled();
        return scheduled.length === 3 ? scheduled : null;
      });
      await worker.close();
      await running;
      expect(runs.map((r) => [r.cronId, isoOf(r.scheduledAt)])).toEqual([
        [id, "2030-01-01T08:05:00.000Z"],
        [id, "2030-01-01T08:10:00.000Z"],
        [id, "2030-01-01T08:15:00.000Z"],
      ]);
      expect(await queue.deleteCron(poll("legacy"), "*/5 * * * *")).toBe(true);
    });
  });
}
