/**
 * Cron schedules without a backend: `{ every }` fire times (property tests:
 * aligned, strictly increasing, the first one within one interval, the same
 * whatever point of the interval they are computed from), time zones through
 * croner across daylight-saving changes, the ids and stored shapes that keep
 * crons of older versions working, and the runs the cron manager keeps ahead.
 */
import fc from "fast-check";
import { CronExpressionError, task } from "sheppy";
import { describe, expect, test } from "vitest";
import {
  cronDeterministicId,
  cronRunsAhead,
  MAX_RUNS_AHEAD,
  newStoredCron,
  readStoredCron,
  type StoredCron,
  toCronDefinition,
} from "../../src/queue/cron.js";
import { checkTimezone } from "../../src/queue/cron-expression.js";
import {
  everySchedule,
  MAX_EVERY_SECONDS,
  parseCronSchedule,
  scheduleText,
  storedScheduleFields,
} from "../../src/queue/cron-schedule.js";
import { canonicalJson } from "../../src/util/canonical-json.js";
import { uuidV5 } from "../../src/util/uuid-v5.js";
import { errorOf } from "../support/error-of.js";

const send = task({ name: "unit-cron-schedule.send" }, (to: string) => to);
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
/** Instants from 1970 to 2200, in ms. */
const instant = fc.integer({ min: 0, max: 7_258_118_400_000 });
const seconds = fc.integer({ min: 1, max: MAX_EVERY_SECONDS });

describe("{ every } fire times", () => {
  test("property: aligned to multiples of N s since the epoch, strictly increasing by N s, the first within (from, from + N]", () => {
    fc.assert(
      fc.property(seconds, instant, fc.integer({ min: 1, max: 20 }), (n, from, count) => {
        const step = n * 1000;
        const runs = everySchedule(n, "t").nextRuns(from, count);
        expect(runs).toHaveLength(count);
        expect(runs[0]! > from && runs[0]! <= from + step).toBe(true);
        runs.forEach((t, i) => {
          expect(t % step).toBe(0);
          if (i > 0) expect(t - runs[i - 1]!).toBe(step);
        });
      }),
    );
  });

  test("property: the same fire times from any point of the same interval (every worker agrees)", () => {
    fc.assert(
      fc.property(seconds, instant, fc.double({ min: 0, max: 1, noNaN: true }), (n, from, f) => {
        const step = n * 1000;
        const start = Math.floor(from / step) * step;
        const other = Math.min(start + Math.floor(f * step), start + step - 1);
        const schedule = everySchedule(n, "t");
        expect(schedule.nextRuns(other, 3)).toEqual(schedule.nextRuns(start, 3));
      }),
    );
  });

  test("property: continuing from the last run gives the runs after it (monotonic across ticks)", () => {
    fc.assert(
      fc.property(seconds, instant, (n, from) => {
        const schedule = everySchedule(n, "t");
        const five = schedule.nextRuns(from, 5);
        expect([...schedule.nextRuns(from, 2), ...schedule.nextRuns(five[1]!, 3)]).toEqual(five);
      }),
    );
  });

  test("round intervals land on round UTC times; a fire time is never 'now' itself", () => {
    const from = at("2030-01-01T08:59:59.999Z");
    expect(everySchedule(3600, "t").nextRuns(from, 2).map(iso)).toEqual([
      "2030-01-01T09:00:00.000Z",
      "2030-01-01T10:00:00.000Z",
    ]);
    expect(everySchedule(86_400, "t").nextRuns(from, 1).map(iso)).toEqual([
      "2030-01-02T00:00:00.000Z",
    ]);
    expect(everySchedule(30, "t").nextRuns(at("2030-01-01T09:00:00Z"), 1).map(iso)).toEqual([
      "2030-01-01T09:00:30.000Z",
    ]);
  });

  test("property: anything but a whole number of seconds from 1 to 366 days is a one-line CronExpressionError naming the call", () => {
    const bad = fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: MAX_EVERY_SECONDS + 1 }),
      fc.double({ noInteger: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, "30", null, undefined, true, [30]),
    );
    fc.assert(
      fc.property(bad, (every) => {
        const error = errorOf(() => parseCronSchedule({ every }, undefined, "queue.addCron()"));
        expect(error).toBeInstanceOf(CronExpressionError);
        expect(error.message).toMatch(
          /^queue\.addCron\(\): 'every' must be a whole number of seconds from 1 to 31622400 \(got .+\)$/,
        );
        expect(error.message).not.toContain("\n");
      }),
    );
  });
});

describe("time zones", () => {
  const runs = (expression: string, timezone: string, from: string, count: number) =>
    parseCronSchedule(expression, { timezone }, "t").nextRuns(at(from), count).map(iso);

  test("zone names are checked and spelled canonically; UTC aliases are UTC", () => {
    expect(checkTimezone("europe/berlin", "t")).toBe("Europe/Berlin");
    for (const utc of ["UTC", "utc", "Etc/UTC", "GMT"]) expect(checkTimezone(utc, "t")).toBe("UTC");
    for (const bad of ["Mars/Olympus", "+01:00", "", " ", 3, null]) {
      const error = errorOf(() => checkTimezone(bad, "queue.addCron()"));
      expect(error).toBeInstanceOf(CronExpressionError);
      expect(error.message).toMatch(/^queue\.addCron\(\): (unknown time zone|timezone must be)/);
    }
  });

  test("Europe/Berlin, 02:30 daily: on the spring-forward day at 03:00 CEST; on the fall-back day once, at the first 02:30", () => {
    expect(runs("30 2 * * *", "Europe/Berlin", "2030-03-30T00:00:00Z", 3)).toEqual([
      "2030-03-30T01:30:00.000Z",
      "2030-03-31T01:00:00.000Z",
      "2030-04-01T00:30:00.000Z",
    ]);
    expect(runs("30 2 * * *", "Europe/Berlin", "2030-10-26T00:00:00Z", 3)).toEqual([
      "2030-10-26T00:30:00.000Z",
      "2030-10-27T00:30:00.000Z",
      "2030-10-28T01:30:00.000Z",
    ]);
  });

  test("America/New_York: 02:30 on the spring-forward day runs at 03:00 EDT; 01:30 on the fall-back day runs once", () => {
    expect(runs("30 2 * * *", "America/New_York", "2030-03-09T00:00:00Z", 3)).toEqual([
      "2030-03-09T07:30:00.000Z",
      "2030-03-10T07:00:00.000Z",
      "2030-03-11T06:30:00.000Z",
    ]);
    expect(runs("30 1 * * *", "America/New_York", "2030-11-02T00:00:00Z", 3)).toEqual([
      "2030-11-02T05:30:00.000Z",
      "2030-11-03T05:30:00.000Z",
      "2030-11-04T06:30:00.000Z",
    ]);
  });

  test("an interval pattern runs in both passes of a repeated hour and skips the missing one", () => {
    expect(runs("30 * * * *", "Europe/Berlin", "2030-10-27T00:00:00Z", 3)).toEqual([
      "2030-10-27T00:30:00.000Z", // 02:30 CEST
      "2030-10-27T01:30:00.000Z", // 02:30 CET
      "2030-10-27T02:30:00.000Z", // 03:30 CET
    ]);
    expect(runs("30 * * * *", "Europe/Berlin", "2030-03-31T00:00:00Z", 2)).toEqual([
      "2030-03-31T00:30:00.000Z", // 01:30 CET
      "2030-03-31T01:30:00.000Z", // 03:30 CEST: 02:30 does not exist
    ]);
  });

  test("a time zone is refused with { every }", () => {
    expect(() => parseCronSchedule({ every: 30 }, { timezone: "UTC" }, "t")).toThrow(
      /'timezone' applies to cron text, not to \{ every \}/,
    );
  });
});

describe("ids and stored shapes across versions", () => {
  const NS = "b5e0994b-e7a3-45e3-bda0-89f43592aa24";
  const legacyId = (expression: string) =>
    uuidV5(NS, canonicalJson([send("x").name, ["x"], send("x").config as never, expression]));

  test("cron text in UTC keeps the id and the stored shape of older versions", () => {
    const schedule = parseCronSchedule("0 9 * * 1-5", { timezone: "Etc/UTC" }, "t");
    expect(cronDeterministicId(send("x"), schedule)).toBe(legacyId("0 9 * * 1-5"));
    const stored = newStoredCron(send("x"), schedule, "q", at("2030-01-01T00:00:00Z"));
    expect(stored.expression).toBe("0 9 * * 1-5");
    expect("schedule" in stored).toBe(false);
  });

  test("an interval and a zoned cron get ids of their own and are stored with expression null (older versions skip them)", () => {
    const every = parseCronSchedule({ every: 60 }, undefined, "t");
    const zoned = parseCronSchedule("0 9 * * 1-5", { timezone: "Europe/Berlin" }, "t");
    const ids = [every, zoned].map((s) => cronDeterministicId(send("x"), s));
    expect(new Set([...ids, legacyId("0 9 * * 1-5")]).size).toBe(3);
    const now = at("2030-01-01T00:00:00Z");
    expect(newStoredCron(send("x"), every, "q", now)).toMatchObject({
      expression: null,
      schedule: { every: 60 },
    });
    expect(newStoredCron(send("x"), zoned, "q", now)).toMatchObject({
      expression: null,
      schedule: { expression: "0 9 * * 1-5", timezone: "Europe/Berlin" },
    });
  });

  test("a record of an older version (no managedBy, declaration or schedule) reads as a UTC cron", () => {
    const old = {
      v: 1,
      id: "250dfdce-4dfc-40dd-962d-d26097f76231",
      deterministicId: legacyId("0 9 * * 1-5"),
      name: send("x").name,
      args: ["x"],
      config: send("x").config as never,
      expression: "0 9 * * 1-5",
      queue: "q",
      createdAt: "2029-01-01T00:00:00.000Z",
    };
    const read = readStoredCron(old)!;
    expect(read).not.toBeNull();
    expect(toCronDefinition(read, "q", at("2030-01-01T00:00:00Z"))).toMatchObject({
      expression: "0 9 * * 1-5",
      every: null,
      timezone: "UTC",
      managedBy: null,
      nextRunAt: new Date(at("2030-01-01T09:00:00Z")),
    });
  });

  test("expression null without a schedule is not a cron this version reads", () => {
    expect(readStoredCron({ deterministicId: "x", id: "y", expression: null } as never)).toBeNull();
  });
});

describe("runs kept ahead", () => {
  const stored = (input: string | { every: number }): StoredCron =>
    newStoredCron(send("x"), parseCronSchedule(input, undefined, "t"), "q", 0);

  test("the next `count`, and every run within the horizon, at most MAX_RUNS_AHEAD", () => {
    const now = at("2030-01-01T08:00:01Z");
    expect(cronRunsAhead(stored({ every: 2 }), now, 3).length).toBe(3);
    const within = cronRunsAhead(stored({ every: 2 }), now, 3, 20_000);
    expect(within.map(iso).at(0)).toBe("2030-01-01T08:00:02.000Z");
    expect(within.map(iso).at(-1)).toBe("2030-01-01T08:00:20.000Z");
    expect(within).toHaveLength(10);
    expect(cronRunsAhead(stored({ every: 1 }), now, 3, 86_400_000)).toHaveLength(MAX_RUNS_AHEAD);
    // Cron text: a horizon shorter than the next `count` runs adds nothing.
    expect(cronRunsAhead(stored("*/5 * * * *"), now, 3, 20_000)).toHaveLength(3);
    expect(cronRunsAhead(stored("* * * * *"), now, 3, 600_000)).toHaveLength(10);
  });

  test("property: strictly increasing, and the first `count` equal the schedule's next runs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        instant,
        fc.integer({ min: 0, max: 7_200_000 }),
        (n, now, horizon) => {
          const cron = stored({ every: n });
          const times = cronRunsAhead(cron, now, 3, horizon);
          expect(times.slice(0, 3)).toEqual(everySchedule(n, "t").nextRuns(now, 3));
          for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
          if (times.length > 3) expect(times.at(-1)).toBeLessThanOrEqual(now + horizon);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("a stored schedule as one line (logs)", () => {
  test.each([
    [parseCronSchedule("0 9 * * 1-5", undefined, "t"), "0 9 * * 1-5"],
    [
      parseCronSchedule("30 2 * * *", { timezone: "Europe/Berlin" }, "t"),
      "30 2 * * * (Europe/Berlin)",
    ],
    [parseCronSchedule({ every: 30 }, undefined, "t"), "every 30 s"],
  ])("%#: reads as its schedule, never null", (schedule, text) => {
    expect(scheduleText(storedScheduleFields(schedule))).toBe(text);
  });
});
