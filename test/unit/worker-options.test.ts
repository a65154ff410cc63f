/**
 * `new Worker(queue, options)` checks its options at construction: an unknown
 * option (a typo such as `retries: 3`, a task option) is an error naming it and
 * the valid ones, rather than silently doing nothing (WK-1).
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

  test("logTasks is off unless asked for, and must be a boolean", () => {
    expect(resolveWorkerOptions({}).logTasks).toBe(false);
    expect(resolveWorkerOptions({ logTasks: true }).logTasks).toBe(true);
    expect(() => resolveWorkerOptions({ logTasks: "yes" as never })).toThrow(
      'Worker option logTasks must be true or false (got "yes")',
    );
  });

  test("a Worker in code reads no config file unless configFile names one", () => {
    expect(resolveWorkerOptions({}).configFile).toBeNull();
    expect(resolveWorkerOptions({ configFile: null }).configFile).toBeNull();
    expect(resolveWorkerOptions({ configFile: "crons.json" }).configFile).toMatch(/\/crons\.json$/);
  });
});
