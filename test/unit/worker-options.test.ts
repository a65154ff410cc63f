/**
 * `new Worker(queue, options)` checks its options at construction: an unknown
 * option (a typo such as `retries: 3`, a task option) is an error naming it and
 * the valid ones, rather than silently doing nothing (WK-1); a value of the
 * wrong type is an error naming the option, rather than taken for its
 * truthiness (`processing: "no"`) or failing every task later (`middleware`).
 */
import { InvalidOptionError, type Logger, Queue, systemClock, Worker } from "sheppy";
import { describe, expect, test } from "vitest";
import { resolveWorkerOptions } from "../../src/worker/worker-options.js";

const VALID =
  "concurrency, prefetch, shutdownTimeout, middleware, dependencyOverrides, processing, scheduler, schedulerInterval, cronManager, cronInterval, configFile, claimWait, unknownTaskGrace, heartbeatInterval, leaseTimeout, reclaimInterval, expiryInterval, handleSignals, logTasks, logger, clock";

describe("Worker options", () => {
  test("an unknown option is an InvalidOptionError naming it and listing the valid ones", () => {
    const queue = new Queue("memory://", { name: "worker-options" });
    const attempt = () => new Worker(queue, { retries: 3 } as never);
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(`Worker: unknown option 'retries' (valid options: ${VALID})`);
  });

  test("several unknown options are all named, on one line", () => {
    const attempt = () => resolveWorkerOptions({ concurency: 5, timeout: 1 } as never);
    expect(attempt).toThrow(/^Worker: unknown options 'concurency', 'timeout' \(valid options: /);
  });

  test("every documented option is accepted", () => {
    const nothing = () => undefined;
    const quiet: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
    expect(() =>
      resolveWorkerOptions({
        concurrency: 2,
        prefetch: 1,
        shutdownTimeout: 1,
        middleware: [],
        dependencyOverrides: new Map(),
        processing: true,
        scheduler: true,
        schedulerInterval: 1,
        cronManager: true,
        cronInterval: 1,
        configFile: null,
        claimWait: 1,
        heartbeatInterval: 1,
        leaseTimeout: 2,
        reclaimInterval: 1,
        expiryInterval: 1,
        handleSignals: false,
        logTasks: true,
        logger: quiet,
        clock: systemClock,
      }),
    ).not.toThrow();
  });

  test('logTasks logs failures unless told otherwise, and must be a boolean or "failures"', () => {
    expect(resolveWorkerOptions({}).logTasks).toBe("failures");
    expect(resolveWorkerOptions({ logTasks: true }).logTasks).toBe(true);
    expect(resolveWorkerOptions({ logTasks: false }).logTasks).toBe(false);
    expect(() => resolveWorkerOptions({ logTasks: "yes" as never })).toThrow(
      'Worker option logTasks must be true, false or "failures" (got "yes")',
    );
  });

  test("middleware must be a list of functions: one line at construction, not a TypeError in every task", () => {
    const queue = new Queue("memory://", { name: "worker-options" });
    const cases: [unknown, string][] = [
      ["x", 'got "x"'],
      [() => undefined, "got a function: pass a list, [middleware]"],
      [[1], "item 0 is 1"],
      [[async () => undefined, null], "item 1 is null"],
      // A hole is an item too.
      [new Array(2).fill(async () => undefined, 1), "item 0 is undefined"],
    ];
    for (const [middleware, given] of cases) {
      const attempt = () => new Worker(queue, { middleware: middleware as never });
      expect(attempt).toThrow(InvalidOptionError);
      expect(attempt).toThrow(`Worker option middleware must be a list of functions (${given})`);
    }
    expect(
      resolveWorkerOptions({ middleware: [async (_ctx, next) => next()] }).middleware,
    ).toHaveLength(1);
  });

  test.each(["processing", "scheduler", "cronManager", "handleSignals"])(
    "%s must be true or false: a string is refused, not taken for its truthiness",
    (name) => {
      const queue = new Queue("memory://", { name: "worker-options" });
      for (const given of ["no", 1, 0, null]) {
        const attempt = () => new Worker(queue, { [name]: given } as never);
        expect(attempt).toThrow(InvalidOptionError);
        expect(attempt).toThrow(
          `Worker option ${name} must be true or false (got ${typeof given === "string" ? `"${given}"` : String(given)})`,
        );
      }
    },
  );

  test("processing: false is still refused when nothing is left to do", () => {
    expect(() =>
      resolveWorkerOptions({ processing: false, scheduler: false, cronManager: false }),
    ).toThrow("Worker has nothing to do");
  });

  test("every other option is checked for its type", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ concurrency: "5" }, 'Worker option concurrency must be an integer ≥ 1 (got "5")'],
      [{ shutdownTimeout: "2" }, "Worker option shutdownTimeout must be a number of seconds ≥ 0"],
      [{ configFile: 3 }, "Worker option configFile must be a file path"],
      [
        { dependencyOverrides: { a: 1 } },
        "Worker option dependencyOverrides must be a Map from dependency functions to their replacements (got [object Object])",
      ],
      [
        { dependencyOverrides: new Map([["db", () => 1]]) },
        'Worker option dependencyOverrides: entry 1 has a key that is not a function (got "db"); each key is a dependency function and its value the function that replaces it',
      ],
      [
        { logger: console.log },
        "Worker option logger must be an object with the methods debug, info, warn, error (got ",
      ],
      [
        { logger: { debug() {}, info() {}, warn() {} } },
        "Worker option logger must be an object with the methods debug, info, warn, error (got [object Object], without error)",
      ],
      [
        { clock: Date },
        "Worker option clock must be an object with the methods now, setTimer, sleep (got ",
      ],
      [
        { clock: { now: () => 0 } },
        "Worker option clock must be an object with the methods now, setTimer, sleep (got [object Object], without setTimer, sleep)",
      ],
    ];
    for (const [options, message] of cases) {
      const attempt = () => resolveWorkerOptions(options as never);
      expect(attempt, JSON.stringify(Object.keys(options))).toThrow(InvalidOptionError);
      expect(attempt, JSON.stringify(Object.keys(options))).toThrow(message);
    }
  });

  test("options that are not an object are refused in one line", () => {
    const queue = new Queue("memory://", { name: "worker-options" });
    expect(() => new Worker(queue, null as never)).toThrow(
      "Worker: options must be an object (got null)",
    );
    expect(() => new Worker(queue, "fast" as never)).toThrow(
      "Worker: options must be an object (got string)",
    );
  });

  test("a Worker in code reads no config file unless configFile names one", () => {
    expect(resolveWorkerOptions({}).configFile).toBeNull();
    expect(resolveWorkerOptions({ configFile: null }).configFile).toBeNull();
    expect(resolveWorkerOptions({ configFile: "crons.json" }).configFile).toMatch(/\/crons\.json$/);
  });
});
