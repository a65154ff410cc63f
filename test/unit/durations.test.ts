/**
 * The one bound on durations given in seconds: task options, Worker options
 * and schedule delays above ten years (or not finite) are refused where they
 * are given, with a one-line error naming the option, instead of failing later
 * when an instant computed from them cannot be a date.
 */
import {
  InvalidOptionError,
  Queue,
  type TaskBehaviourOptions,
  TaskDefinitionError,
  task,
} from "sheppy";
import { describe, expect, test } from "vitest";
import { resolveDueTime } from "../../src/queue/instant.js";
import { MAX_DURATION_SECONDS, MAX_DURATION_TEXT } from "../../src/util/durations.js";
import { resolveWorkerOptions, type WorkerOptions } from "../../src/worker/worker-options.js";

const TOO_LONG = [1e13, Number.POSITIVE_INFINITY, MAX_DURATION_SECONDS + 1];

/** Throws what `fn` throws, or fails the test if it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw");
}

let defined = 0;
/** Defines a task with `options` under a fresh name and returns the name. */
function define(options: TaskBehaviourOptions): string {
  const name = `durations-${++defined}`;
  task({ name, ...options }, () => 1);
  return name;
}

describe("the bound", () => {
  test("is ten years of seconds and reads so in messages", () => {
    expect(MAX_DURATION_SECONDS).toBe(315_360_000);
    expect(MAX_DURATION_TEXT).toBe("≤ 315360000 (10 years)");
  });
});

describe("task options", () => {
  type Case = [string, (seconds: number) => TaskBehaviourOptions, string];
  const cases: Case[] = [
    [
      "retryDelay",
      (s) => ({ retry: 1, retryDelay: s }),
      "retryDelay must be a number of seconds ≥ 0 and ≤ 315360000 (10 years), a list of them (one per retry), a strategy",
    ],
    [
      "a retryDelay list value",
      (s) => ({ retry: 2, retryDelay: [1, s] }),
      "retryDelay values must be numbers of seconds ≥ 0 and ≤ 315360000 (10 years)",
    ],
    ["timeout", (s) => ({ timeout: s }), "timeout must be a number of seconds > 0 and ≤ 315360000"],
    ["ttl", (s) => ({ ttl: s }), "ttl must be a number of seconds > 0 and ≤ 315360000"],
    [
      "errorTtl",
      (s) => ({ errorTtl: s }),
      "errorTtl must be a number of seconds > 0 and ≤ 315360000",
    ],
    [
      "rateLimit.ratePeriod",
      (s) => ({ rateLimit: { maxRate: 1, ratePeriod: s } }),
      "rateLimit.ratePeriod must be a number of seconds > 0 and ≤ 315360000",
    ],
  ];

  test.each(cases)(
    "%s above the bound is a one-line TaskDefinitionError",
    (_what, options, text) => {
      for (const seconds of TOO_LONG) {
        const error = thrown(() => define(options(seconds)));
        expect(error).toBeInstanceOf(TaskDefinitionError);
        expect(error.message).toMatch(/^task 'durations-\d+': /);
        expect(error.message).toContain(text);
        expect(error.message).toMatch(new RegExp(`\\(got (\\[1, )?${String(seconds)}\\]?\\)$`));
        expect(error.message).not.toContain("\n");
      }
    },
  );

  test.each(cases)("%s of exactly the bound is accepted", (_what, options) => {
    expect(define(options(MAX_DURATION_SECONDS))).toMatch(/^durations-/);
  });

  test("retryDelay 1e13 names the exact value and the task", () => {
    const error = thrown(() => task({ name: "huge-delay", retry: 1, retryDelay: 1e13 }, () => 1));
    expect(error.message).toBe(
      'task \'huge-delay\': retryDelay must be a number of seconds ≥ 0 and ≤ 315360000 (10 years), a list of them (one per retry), a strategy ({ type: "fixed" | "exponential", delay, … }) or a function (attempt, error) => seconds (got 10000000000000)',
    );
    const list = thrown(() =>
      task(
        { name: "huge-delay-list", retry: 1, retryDelay: [1, Number.POSITIVE_INFINITY] },
        () => 1,
      ),
    );
    expect(list.message).toBe(
      "task 'huge-delay-list': retryDelay values must be numbers of seconds ≥ 0 and ≤ 315360000 (10 years) (got [1, Infinity])",
    );
  });

  test("a failure with the longest retry delay is stored as retrying, due in ten years", async () => {
    const flaky = task(
      { name: "longest-delay", retry: 1, retryDelay: MAX_DURATION_SECONDS },
      () => {
        throw new Error("not yet");
      },
    );
    const queue = new Queue("memory://");
    const t = flaky();
    const before = Date.now();
    await queue.add(t);
    const stored = await queue.getTask(t);
    expect(stored?.status).toBe("retrying");
    const dueIn = (stored?.nextRetryAt?.getTime() ?? 0) - before;
    expect(dueIn).toBeGreaterThanOrEqual(MAX_DURATION_SECONDS * 1000);
    expect(dueIn).toBeLessThan(MAX_DURATION_SECONDS * 1000 + 60_000);
    // Stops the ten-year retry timer.
    await queue.close();
  });
});

describe("Worker options", () => {
  const secondsOptions: (keyof WorkerOptions)[] = [
    "shutdownTimeout",
    "schedulerInterval",
    "cronInterval",
    "claimWait",
    "heartbeatInterval",
    "leaseTimeout",
    "reclaimInterval",
    "expiryInterval",
  ];

  test.each(secondsOptions)("%s above the bound is a one-line InvalidOptionError", (option) => {
    for (const seconds of TOO_LONG) {
      const error = thrown(() => resolveWorkerOptions({ [option]: seconds }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(
        new RegExp(
          `^Worker option ${option} must be a number of seconds [≥>] 0 and ≤ 315360000 \\(10 years\\) \\(got ${String(seconds)}\\)$`,
        ),
      );
    }
  });

  test.each(secondsOptions)("%s of exactly the bound is accepted", (option) => {
    // The lease must stay longer than the heartbeat whichever of the two is at the bound.
    const options: WorkerOptions =
      option === "heartbeatInterval"
        ? { heartbeatInterval: MAX_DURATION_SECONDS - 1, leaseTimeout: MAX_DURATION_SECONDS }
        : { [option]: MAX_DURATION_SECONDS };
    const resolved = resolveWorkerOptions(options);
    expect(Object.values(resolved)).toContain(
      option === "heartbeatInterval"
        ? (MAX_DURATION_SECONDS - 1) * 1000
        : MAX_DURATION_SECONDS * 1000,
    );
  });
});

describe("schedule times (resolveDueTime)", () => {
  const now = Date.UTC(2030, 0, 1);

  test.each(TOO_LONG)(
    "a delay of %s seconds is a one-line InvalidOptionError naming where",
    (s) => {
      const error = thrown(() => resolveDueTime(s, now, "queue.schedule()"));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toBe(
        `queue.schedule(): expected a Date or a delay in seconds ≥ 0 and ≤ 315360000 (10 years) (got ${String(s)})`,
      );
    },
  );

  test("a delay of exactly the bound is accepted", () => {
    expect(resolveDueTime(MAX_DURATION_SECONDS, now, "queue.schedule()")).toBe(
      now + MAX_DURATION_SECONDS * 1000,
    );
  });

  test("a delay that would end past the last time a record holds is refused", () => {
    for (const lateNow of [8.64e15 - 1000, Date.UTC(9999, 11, 31, 23, 59, 55)]) {
      expect(() => resolveDueTime(10, lateNow, "queue.retry()")).toThrow(
        `queue.retry(): a delay of 10 seconds from ${new Date(lateNow).toISOString()} ends after 9999-12-31T23:59:59.999Z, the last time a task can be due`,
      );
    }
  });

  test("a Date whose getTime() claims an instant no Date can hold is refused", () => {
    class LyingDate extends Date {
      override getTime(): number {
        return 1e20;
      }
    }
    const fake = Object.create(Date.prototype) as Date;
    for (const at of [new Date(Number.NaN), fake]) {
      expect(() => resolveDueTime(at, now, "queue.schedule()")).toThrow(
        "queue.schedule(): invalid Date",
      );
    }
    // The time the object really holds is used, not what an override claims.
    const lying = new LyingDate(now + 5000);
    expect(resolveDueTime(lying, now, "queue.schedule()")).toBe(now + 5000);
  });

  test("the last moment of the year 9999 is the latest due time; a Date after it is refused", () => {
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    expect(resolveDueTime(new Date(last), now, "queue.schedule()")).toBe(last);
    for (const at of [new Date(last + 1), new Date(8.64e15)]) {
      expect(() => resolveDueTime(at, now, "queue.schedule()")).toThrow(
        `queue.schedule(): ${at.toISOString()} is after 9999-12-31T23:59:59.999Z, the last time a task can be due`,
      );
    }
  });

  test("through the queue: schedule() refuses 1e13, Infinity and the year 10000 before storing anything", async () => {
    const later = task({ name: "schedule-bound" }, () => 1);
    const queue = new Queue("memory://");
    for (const at of [1e13, Number.POSITIVE_INFINITY, new Date("+010000-01-01T00:00:00Z")]) {
      await expect(queue.schedule(later(), at)).rejects.toThrow(InvalidOptionError);
    }
    expect(await queue.size()).toBe(0);
    expect((await queue.getAllTasks()).length).toBe(0);
    await queue.close();
  });
});
