/**
 * Cron definitions without a backend: expressions through croner (CRON-7,
 * CRON-8), fire times (CRON-9), deterministic ids (CRON-5, CRON-6) and the
 * task of one run (CRON-10); the name-based UUIDs under them.
 */
import { CronExpressionError, InvalidOptionError, task } from "sheppy";
import { describe, expect, test } from "vitest";
import {
  cronDeterministicId,
  cronRunId,
  cronRunTask,
  newStoredCron,
  readStoredCron,
  toCronDefinition,
} from "../../src/queue/cron.js";
import { parseCronExpression } from "../../src/queue/cron-expression.js";
import { canonicalJson } from "../../src/util/canonical-json.js";
import { uuidV5 } from "../../src/util/uuid-v5.js";
import { errorOf } from "../support/error-of.js";

const send = task({ name: "unit-cron.send" }, (to: string, n: number) => `${to}${n}`);
const sendRetrying = task(
  { name: "unit-cron.send-retrying", retry: 3 },
  (to: string, n: number) => `${to}${n}`,
);
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("uuidV5", () => {
  test("matches the RFC test vector (DNS namespace, 'python.org')", () => {
    expect(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org")).toBe(
      "886313e1-3b8a-5372-9b90-0c9aee199e5d",
    );
  });

  test("is stable for equal input, different otherwise, and refuses a namespace that is not a UUID", () => {
    const ns = "b5e0994b-e7a3-45e3-bda0-89f43592aa24";
    expect(uuidV5(ns, "a")).toBe(uuidV5(ns, "a"));
    expect(uuidV5(ns, "a")).not.toBe(uuidV5(ns, "b"));
    expect(() => uuidV5("not-a-uuid", "a")).toThrow(TypeError);
  });
});

describe("canonicalJson", () => {
  test("sorts object keys at every level; arrays keep their order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});

describe("parseCronExpression", () => {
  test.each([
    "* * * * *",
    "1 1 1 1 1",
    "*/5 * * * *",
    "0 0 * * 0",
    "0 0 * * 7",
    "0 */4 * * *",
    "0 9-17 * * 1-5",
    "0 9 * * mon",
    "0 9 * * MON-FRI",
    "0 0 1 jan *",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
  ])("CRON-7 accepts %j", (expression) => {
    expect(parseCronExpression(expression, "test").expression).toBe(expression);
  });

  test.each<[string, unknown]>([
    ["arbitrary text", "every day at nine"],
    ["an empty string", ""],
    ["four fields", "* * * *"],
    ["six fields (seconds)", "*/5 * * * * *"],
    ["minute 60", "60 * * * *"],
    ["hour 24", "0 24 * * *"],
    ["day 32", "0 0 32 * *"],
    ["month 13", "0 0 1 13 *"],
    ["weekday 8", "0 0 * * 8"],
    ["an unknown name", "0 0 * * funday"],
    ["an unknown macro", "@fortnightly"],
    ["step 0", "*/0 * * * *"],
    ["an expression that never fires", "0 0 30 2 *"],
    ["a number", 5],
    ["null", null],
    ["an array", ["* * * * *"]],
    ["an object", { expression: "* * * * *" }],
  ])("CRON-8 rejects %s with a CronExpressionError naming where", (_what, expression) => {
    let caught: unknown;
    try {
      parseCronExpression(expression, "queue.addCron()");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CronExpressionError);
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as Error).message).toMatch(/^queue\.addCron\(\): /);
    expect((caught as Error).message).not.toContain("\n");
    if (typeof expression === "string" && expression !== "") {
      expect((caught as Error).message).toContain(`'${expression}'`);
    }
  });

  test.each([
    ["* * * *", "4 fields"],
    ["*/5 * * * * *", "6 fields"],
    ["0 0 * * * * *", "7 fields"],
    ["every day at nine", "4 fields"],
    ["bogus", "1 field"],
    ["@fortnightly", "unknown macro"],
  ])("CRON-8 the refusal of %j says one thing: five fields or a macro", (expression, problem) => {
    const message = errorOf(() => parseCronExpression(expression, "queue.addCron()")).message;
    expect(message).toBe(
      `queue.addCron(): invalid cron expression '${expression}': ${problem}; a cron expression has exactly five fields (minute hour day-of-month month day-of-week; no seconds field) or is a macro: @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually`,
    );
    expect(message).not.toMatch(/six|seven/);
  });

  test.each([
    ["60 * * * *", "Invalid value for minute: 60"],
    ["61 9 * * *", "Invalid value for minute: 61"],
    // croner counts days of the month and months from 0; the message gives the field's own value.
    ["0 0 32 * *", "Invalid value for day-of-month: 32"],
    ["0 0 0 * *", "Invalid value for day-of-month: 0"],
    ["0 0 * 13 *", "Invalid value for month: 13"],
    ["0 0 * 1-13 *", "Invalid value for month: 13"],
    ["0 0 * * 8", "Invalid value for day-of-week: 8"],
  ])(
    "CRON-8 five fields with a value out of range: the refusal says what the fields take",
    (expression, problem) => {
      const message = errorOf(() => parseCronExpression(expression, "queue.addCron()")).message;
      expect(message).toBe(
        `queue.addCron(): invalid cron expression '${expression}': ${problem}; the fields take minute 0–59, hour 0–23, day-of-month 1–31, month 1–12 or JAN–DEC, day-of-week 0–7 or SUN–SAT (each also *, lists a,b, ranges a-b and steps /n)`,
      );
    },
  );

  test("whitespace is normalised: the stored expression has single spaces", () => {
    expect(parseCronExpression("  */5   * * *\t* ", "test").expression).toBe("*/5 * * * *");
  });

  test("CRON-9 next runs are strictly after `from`, on whole minutes, in UTC", () => {
    const everyMinute = parseCronExpression("* * * * *", "test");
    const now = at("2030-01-01T10:00:30.500Z");
    expect(everyMinute.nextRuns(now - 120_000, 1).map(iso)).toEqual(["2030-01-01T09:59:00.000Z"]);
    expect(everyMinute.nextRuns(now, 3).map(iso)).toEqual([
      "2030-01-01T10:01:00.000Z",
      "2030-01-01T10:02:00.000Z",
      "2030-01-01T10:03:00.000Z",
    ]);
    // A fire time equal to `from` is not "next".
    expect(everyMinute.nextRuns(at("2030-01-01T10:01:00Z"), 1).map(iso)).toEqual([
      "2030-01-01T10:02:00.000Z",
    ]);
    const weekdays = parseCronExpression("0 9 * * 1-5", "test");
    // 2030-01-04 is a Friday: the next run after Friday 09:00 is Monday 09:00 UTC.
    expect(weekdays.nextRuns(at("2030-01-04T09:00:00Z"), 1).map(iso)).toEqual([
      "2030-01-07T09:00:00.000Z",
    ]);
  });

  test("a day of the month and a day of the week both given match either (Vixie cron)", () => {
    const firstOrMonday = parseCronExpression("0 0 1 * mon", "test");
    expect(firstOrMonday.nextRuns(at("2030-01-01T00:00:00Z"), 2).map(iso)).toEqual([
      "2030-01-07T00:00:00.000Z",
      "2030-01-14T00:00:00.000Z",
    ]);
    expect(firstOrMonday.nextRuns(at("2030-01-28T00:00:00Z"), 1).map(iso)).toEqual([
      "2030-02-01T00:00:00.000Z",
    ]);
  });
});

describe("cron ids", () => {
  const schedule = parseCronExpression("*/5 * * * *", "test");
  const now = at("2030-01-01T00:00:00Z");

  test("CRON-5 / CRON-6 equal inputs share the deterministic id, not the random id; owner and queue take no part", () => {
    const a = newStoredCron(send("a", 1), schedule, "q1", now);
    const b = newStoredCron(send("a", 1), schedule, "q2", now + 1000, "config", "{}");
    expect(a.deterministicId).toBe(b.deterministicId);
    expect(a.id).not.toBe(b.id);
  });

  test("CRON-5 the expression, the args, the task and the config each change the deterministic id", () => {
    const base = cronDeterministicId(send("a", 1), "*/5 * * * *");
    const variants = [
      cronDeterministicId(send("a", 1), "*/10 * * * *"),
      cronDeterministicId(send("a", 2), "*/5 * * * *"),
      cronDeterministicId(sendRetrying("a", 1), "*/5 * * * *"),
      cronDeterministicId(
        { ...send("a", 1), name: send.taskName, config: { ...send.config, timeout: 5 } },
        "*/5 * * * *",
      ),
    ];
    expect(new Set([base, ...variants]).size).toBe(5);
  });

  test("CRON-5 the config's key order does not matter", () => {
    const spec = send("a", 1);
    const reordered = Object.fromEntries(
      Object.entries(spec.config).reverse(),
    ) as typeof spec.config;
    expect(
      cronDeterministicId({ name: spec.name, args: spec.args, config: reordered }, "* * * * *"),
    ).toBe(cronDeterministicId(spec, "* * * * *"));
  });

  test("CRON-10 a run's task: id from (cron, fire time), spec and config of the cron, cronId set, scheduled for the run", () => {
    const cron = newStoredCron(sendRetrying("b", 2), schedule, "q", now);
    const run = at("2030-01-01T00:05:00Z");
    const first = cronRunTask(cron, run, now);
    const again = cronRunTask(cron, run, now + 60_000);
    const next = cronRunTask(cron, run + 300_000, now);
    expect(first.id).toBe(again.id);
    expect(first.id).toBe(cronRunId(cron.deterministicId, run));
    expect(first.id).not.toBe(next.id);
    expect(first).toMatchObject({
      name: "unit-cron.send-retrying",
      args: ["b", 2],
      config: sendRetrying.config,
      cronId: cron.deterministicId,
      status: "scheduled",
      scheduledAt: "2030-01-01T00:05:00.000Z",
      createdAt: "2030-01-01T00:00:00.000Z",
    });
  });

  test("a cron's runs are claimed by its task's priority, which does not change its deterministic id", () => {
    const urgent = task({ name: "unit-cron.urgent", priority: 7 }, (n: number) => n);
    const plain = task({ name: "unit-cron.urgent-plain" }, (n: number) => n);
    const cron = newStoredCron(urgent(1), schedule, "q", now);
    expect(cronRunTask(cron, at("2030-01-01T00:05:00Z"), now).priority).toBe(7);
    expect(cronRunTask(newStoredCron(plain(1), schedule, "q", now), now, now).priority).toBe(0);
    const { priority: _dropped, ...stored } = cron;
    expect(cronRunTask({ ...stored, priority: "7" as never }, now, now).priority).toBe(0);
    expect(cron.deterministicId).toBe(
      cronDeterministicId({ name: cron.name, args: [1], config: urgent.config }, schedule),
    );
  });

  test("a stored cron that is not one this version understands reads as null; its definition still lists", () => {
    expect(readStoredCron({ deterministicId: "x" })).toBeNull();
    const cron = newStoredCron(send("c", 3), schedule, "q", now);
    expect(readStoredCron(JSON.parse(JSON.stringify(cron)))).toEqual(cron);
    const broken = { ...cron, expression: "nonsense" };
    expect(toCronDefinition(broken, "q", now).nextRunAt).toBeNull();
  });
});
