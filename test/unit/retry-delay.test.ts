/**
 * Failure control, in the pure parts: the delay before a retry for every
 * `retryDelay` form (examples, and properties over any input: never negative,
 * never NaN, the cap and the jitter ranges hold, any attempt number), the
 * option checks at `task()` (one line naming the task and the option), the
 * stored form through the record codec, and a crash retried with
 * `retryOnCrash` reaching the definition's function.
 */
import fc from "fast-check";
import {
  MemoryBackend,
  SerializationError,
  TaskDefinitionError,
  task,
  WorkerCrashedError,
} from "sheppy";
import { decodeTaskData, encodeTaskData, type Settlement } from "sheppy/backend";
import { TestClock } from "sheppy/testing";
import { describe, expect, test } from "vitest";
import { AttemptPipeline } from "../../src/execution/attempt-pipeline.js";
import { createExecutionEnvironment } from "../../src/execution/execution-environment.js";
import { failure } from "../../src/execution/outcome.js";
import { FUNCTION_FALLBACK_SECONDS, retryDelaySeconds } from "../../src/execution/retry-delay.js";
import type { StoredBackoff, StoredRetryDelay } from "../../src/task/backoff-options.js";
import { MAX_DURATION_SECONDS } from "../../src/util/durations.js";

const input = (
  retryIndex: number,
  extra: Partial<Parameters<typeof retryDelaySeconds>[1]> = {},
) => ({
  taskName: "t",
  retryIndex,
  attempt: retryIndex + 1,
  error: new Error("boom"),
  ...extra,
});

const delays = (delay: StoredRetryDelay, count: number, random?: () => number) =>
  Array.from({ length: count }, (_, i) => retryDelaySeconds(delay, input(i, { random })));

describe("retryDelaySeconds: examples", () => {
  test("a number applies to every retry; a list is indexed by retry and its last value repeats", () => {
    expect(delays(3, 3)).toEqual([3, 3, 3]);
    expect(delays([1, 10, 60], 5)).toEqual([1, 10, 60, 60, 60]);
  });

  test("fixed waits its delay", () => {
    expect(delays({ type: "fixed", delay: 7, jitter: "none" }, 3)).toEqual([7, 7, 7]);
  });

  test("exponential grows by its factor from the first retry and stops at max", () => {
    const strategy: StoredBackoff = {
      type: "exponential",
      delay: 1,
      factor: 2,
      max: 20,
      jitter: "none",
    };
    expect(delays(strategy, 7)).toEqual([1, 2, 4, 8, 16, 20, 20]);
    expect(delays({ ...strategy, factor: 1 }, 3)).toEqual([1, 1, 1]);
    expect(delays({ ...strategy, delay: 0 }, 3)).toEqual([0, 0, 0]);
  });

  test("jitter: full spreads over [0, d], equal over [d/2, d]; the draw decides where", () => {
    const fixed = (jitter: "full" | "equal"): StoredBackoff => ({
      type: "fixed",
      delay: 10,
      jitter,
    });
    expect(delays(fixed("full"), 1, () => 0)).toEqual([0]);
    expect(delays(fixed("full"), 1, () => 0.5)).toEqual([5]);
    expect(delays(fixed("equal"), 1, () => 0)).toEqual([5]);
    expect(delays(fixed("equal"), 1, () => 0.5)).toEqual([7.5]);
    // A random source out of range is read as 0, never as a negative or NaN delay.
    expect(delays(fixed("full"), 1, () => Number.NaN)).toEqual([0]);
    expect(delays(fixed("equal"), 1, () => -3)).toEqual([5]);
  });

  test("a function gets (attempt, error) and returns the delay; without the function, the fallback", () => {
    const calls: [number, unknown][] = [];
    const backoff = (attempt: number, error: unknown) => {
      calls.push([attempt, error]);
      return attempt * 2;
    };
    const error = new Error("x");
    expect(retryDelaySeconds({ type: "function" }, input(0, { attempt: 4, error, backoff }))).toBe(
      8,
    );
    expect(calls).toEqual([[4, error]]);
    expect(retryDelaySeconds({ type: "function" }, input(0))).toBe(FUNCTION_FALLBACK_SECONDS);
  });

  test("a function that throws or returns a bad value is an error naming the task", () => {
    const at = (backoff: () => unknown) => () =>
      retryDelaySeconds(
        { type: "function" },
        input(0, { taskName: "charge", backoff: backoff as () => number }),
      );
    expect(at(() => -1)).toThrow("task 'charge': its retryDelay function returned -1");
    expect(at(() => Number.NaN)).toThrow("returned NaN");
    expect(at(() => "5")).toThrow("returned the text '5'");
    expect(at(() => Promise.resolve(5))).toThrow("returned a promise");
    expect(at(() => MAX_DURATION_SECONDS + 1)).toThrow("≤ 315360000 (10 years)");
    expect(
      at(() => {
        throw new RangeError("nope");
      }),
    ).toThrow("task 'charge': its retryDelay function threw (RangeError: nope)");
  });

  test("a stored duration beyond the bound, or garbage written by hand, stays a valid delay", () => {
    expect(delays(1e300, 1)).toEqual([MAX_DURATION_SECONDS]);
    expect(delays(Number.NaN, 1)).toEqual([0]);
    expect(delays([-5], 1)).toEqual([0]);
  });
});

describe("a stored function strategy in a worker whose definition changed", () => {
  test("a deploy that replaced the function by a number waits the new number; a task defined nowhere waits the fallback", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    const renumbered = task({ name: "retry-delay.renumbered", retry: 2, retryDelay: 20 }, () => 1);
    const stored = {
      ...renumbered().toJSON(),
      config: {
        ...renumbered().toJSON().config,
        retryDelay: { type: "function" } as StoredRetryDelay,
      },
    };
    const next = (data: typeof stored) =>
      Date.parse(failure(data, new Error("x"), now, "error").record.nextRetryAt!) - now;
    expect(next(stored)).toBe(20_000);
    expect(next({ ...stored, name: "retry-delay.defined-nowhere" })).toBe(
      FUNCTION_FALLBACK_SECONDS * 1000,
    );
    // A stored number stays the stored number, whatever the definition says now.
    expect(next({ ...stored, config: { ...stored.config, retryDelay: 3 } })).toBe(3_000);
  });
});

describe("retryDelaySeconds: properties", () => {
  const seconds = fc.double({ min: 0, max: MAX_DURATION_SECONDS, noNaN: true });
  const jitter = fc.constantFrom("none" as const, "full" as const, "equal" as const);
  const strategy: fc.Arbitrary<Exclude<StoredBackoff, { type: "function" }>> = fc.oneof(
    fc.record({ type: fc.constant("fixed" as const), delay: seconds, jitter }),
    fc
      .record({
        type: fc.constant("exponential" as const),
        delay: seconds,
        factor: fc.double({ min: 1, max: 1e12, noNaN: true }),
        max: seconds,
        jitter,
      })
      .map((s) => ({ ...s, max: Math.max(s.max, s.delay) })),
  );
  const anyIndex = fc.oneof(
    fc.nat(64),
    fc.integer(),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY),
  );
  const draw = fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double());

  test("never negative, never NaN, never above the bound — for any strategy, retry number and draw", () => {
    fc.assert(
      fc.property(strategy, anyIndex, draw, (s, index, r) => {
        const d = retryDelaySeconds(s, input(index, { random: () => r }));
        return Number.isFinite(d) && d >= 0 && d <= MAX_DURATION_SECONDS;
      }),
    );
  });

  test("exponential: never above max; without jitter, never below the first delay and never shrinking", () => {
    fc.assert(
      fc.property(strategy, fc.nat(200), draw, (s, index, r) => {
        if (s.type !== "exponential") return true;
        const at = (i: number) => retryDelaySeconds(s, input(i, { random: () => r }));
        if (at(index) > s.max) return false;
        if (s.jitter !== "none") return true;
        return at(index) >= Math.min(s.delay, s.max) && at(index + 1) >= at(index);
      }),
    );
  });

  test("jitter stays within its range of the unjittered delay", () => {
    fc.assert(
      fc.property(strategy, fc.nat(100), draw, (s, index, r) => {
        const plain = retryDelaySeconds({ ...s, jitter: "none" }, input(index));
        const d = retryDelaySeconds(s, input(index, { random: () => r }));
        if (s.jitter === "none") return d === plain;
        const low = s.jitter === "full" ? 0 : plain / 2;
        return d >= low && d <= plain;
      }),
    );
  });

  test("lists: the delay is the element at the retry number, or the last", () => {
    fc.assert(
      fc.property(fc.array(seconds, { minLength: 1, maxLength: 10 }), fc.nat(20), (list, i) => {
        const d = retryDelaySeconds(list, input(i));
        return d === list[Math.min(i, list.length - 1)];
      }),
    );
  });
});

describe("retryDelay options at task()", () => {
  const define = (retryDelay: unknown) => () =>
    task({ name: `bad-${Math.random()}`, retryDelay: retryDelay as never }, () => 1);

  test.each([
    [
      { type: "linear", delay: 1 },
      'retryDelay.type must be "fixed" or "exponential" (got "linear")',
    ],
    [{ delay: 1 }, 'retryDelay.type must be "fixed" or "exponential" (got undefined)'],
    [{ type: "fixed" }, "retryDelay.delay must be a number of seconds ≥ 0"],
    [
      { type: "fixed", delay: -1 },
      "retryDelay.delay must be a number of seconds ≥ 0 and ≤ 315360000 (10 years) (got -1)",
    ],
    [
      { type: "fixed", delay: 1, jitter: true },
      'retryDelay.jitter must be "none", "full" or "equal" (got true)',
    ],
    [
      { type: "fixed", delay: 1, max: 5 },
      "unknown retryDelay option 'max' (valid options: type, delay, jitter)",
    ],
    [{ type: "exponential", delay: 1 }, 'retryDelay.max is required with type "exponential"'],
    [
      { type: "exponential", delay: 10, max: 5 },
      "retryDelay.max (5) must be ≥ retryDelay.delay (10)",
    ],
    [
      { type: "exponential", delay: 1, max: 5, factor: 0.5 },
      "retryDelay.factor must be a number ≥ 1",
    ],
    [
      { type: "exponential", delay: 1, max: 5, factor: Number.NaN },
      "retryDelay.factor must be a number ≥ 1",
    ],
    [
      { type: "exponential", delay: 1, max: Number.POSITIVE_INFINITY },
      "retryDelay.max must be a number of seconds",
    ],
    [{ type: "exponential", delay: 1, max: 5, base: 2 }, "unknown retryDelay option 'base'"],
    [null, "retryDelay must be a number of seconds ≥ 0"],
    ["fast", "retryDelay must be a number of seconds ≥ 0"],
  ])("%j is refused: %s", (retryDelay, message) => {
    expect(define(retryDelay)).toThrow(TaskDefinitionError);
    expect(define(retryDelay)).toThrow(message);
    try {
      define(retryDelay)();
    } catch (error) {
      expect((error as Error).message).not.toContain("\n");
      expect((error as Error).message).toMatch(/^task 'bad-/);
    }
  });

  test("each form is stored with its defaults filled in; a function as its marker", () => {
    const stored = (retryDelay: unknown) =>
      task({ name: `ok-${Math.random()}`, retryDelay: retryDelay as never }, () => 1).config
        .retryDelay;
    expect(stored({ type: "fixed", delay: 2 })).toEqual({
      type: "fixed",
      delay: 2,
      jitter: "none",
    });
    expect(stored({ type: "exponential", delay: 1, max: 60, jitter: "equal" })).toEqual({
      type: "exponential",
      delay: 1,
      factor: 2,
      max: 60,
      jitter: "equal",
    });
    expect(stored(() => 3)).toEqual({ type: "function" });
    expect(stored(undefined)).toBe(1);
    expect(stored([1, 2])).toEqual([1, 2]);
  });
});

describe("the stored form through the record codec", () => {
  const t = task(
    { name: "codec-backoff", retry: 2, retryDelay: { type: "exponential", delay: 1, max: 9 } },
    () => 1,
  );

  test("round-trips, and a malformed strategy is refused naming the field", () => {
    const data = t().toJSON();
    expect(decodeTaskData(encodeTaskData(data))).toEqual(data);
    for (const retryDelay of [
      { type: "fixed", delay: 1 },
      { type: "exponential", delay: 1, max: 2, factor: 0, jitter: "none" },
      { type: "fixed", delay: -1, jitter: "none" },
      { type: "nope" },
    ]) {
      const bad = { ...data, config: { ...data.config, retryDelay } };
      expect(() => decodeTaskData(JSON.stringify(bad))).toThrow(SerializationError);
      expect(() => decodeTaskData(JSON.stringify(bad))).toThrow("config.retryDelay");
    }
  });
});

describe("a crash retried with retryOnCrash", () => {
  const NOW = Date.parse("2030-01-01T08:00:00.000Z");
  const seen: [number, unknown][] = [];
  const crashy = task(
    {
      name: "crash-backoff",
      retry: 2,
      retryOnCrash: true,
      retryDelay: (attempt, error) => {
        seen.push([attempt, error]);
        return 42;
      },
    },
    () => 1,
  );

  test("asks the definition's function, with a WorkerCrashedError, where the claim is taken over", async () => {
    const settled: Settlement[] = [];
    const pipeline = new AttemptPipeline({
      queue: "q",
      store: new MemoryBackend({ instantProcessing: false }),
      environment: createExecutionEnvironment("q", {
        clock: new TestClock(NOW),
        middleware: [],
        dependencyOverrides: undefined,
      }),
      settle: async (settlement) => {
        settled.push(settlement);
        return "settled";
      },
    });
    const record = { ...crashy().toJSON(), status: "processing" as const };
    const end = await pipeline.crash({ record, fence: 1 });
    expect(end.record.status).toBe("retrying");
    expect(end.record.nextRetryAt).toBe(new Date(NOW + 42_000).toISOString());
    expect(settled.map((s) => s.record.status)).toEqual(["retrying"]);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[0]).toBe(1);
    expect(seen[0]?.[1]).toBeInstanceOf(WorkerCrashedError);
  });
});
