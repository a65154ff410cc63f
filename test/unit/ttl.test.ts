/**
 * Retention resolution (TTL-1…TTL-9): which TTL a finished record gets from
 * its task's options and its backend's defaults. Pure: no backend, no clock.
 */
import { InvalidOptionError, MemoryBackend, type TaskData } from "sheppy";
import { resolveTtl } from "sheppy/backend";
import { RedisBackend } from "sheppy/backends/redis";
import { describe, expect, it } from "vitest";
import type { TaskConfig } from "../../src/task/task-options.js";
import type { TaskStatus } from "../../src/task/task-record.js";
import { expiryOf, type RetentionDefaults, resolveRetention } from "../../src/task/ttl.js";

const BASE_CONFIG: TaskConfig = {
  retry: 0,
  retryDelay: 1,
  timeout: null,
  retryOnTimeout: false,
  retryOnCrash: false,
  rateLimit: null,
};

/** A record in `status`, finished unless told otherwise, with these task TTL options. */
function record(
  status: TaskStatus,
  options: { ttl?: number | null; errorTtl?: number | null } = {},
  finished = true,
): Pick<TaskData, "status" | "finishedAt" | "config"> {
  return {
    status,
    finishedAt: finished ? "2030-01-01T00:00:00.000Z" : null,
    config: { ...BASE_CONFIG, ...options },
  };
}

describe("resolveTtl", () => {
  describe("TTL-5 worked cases", () => {
    const cases: [string, ReturnType<typeof record>, RetentionDefaults, number | null][] = [
      ["backend (100, 10) + failed → 10", record("failed"), { ttl: 100, errorTtl: 10 }, 10],
      ["backend (100, inherit) + failed → 100", record("failed"), { ttl: 100 }, 100],
      ["task ttl 5 + failed → 5", record("failed", { ttl: 5 }), { ttl: 100, errorTtl: 10 }, 5],
      [
        "task (ttl 5, errorTtl 2) + failed → 2",
        record("failed", { ttl: 5, errorTtl: 2 }),
        { ttl: 100, errorTtl: 10 },
        2,
      ],
      [
        "task ttl null + failed → forever, beating backend errorTtl 10",
        record("failed", { ttl: null }),
        { ttl: 100, errorTtl: 10 },
        null,
      ],
      [
        "task errorTtl null + failed → forever",
        record("failed", { errorTtl: null }),
        { ttl: 100, errorTtl: 10 },
        null,
      ],
      [
        "task errorTtl 2 on a completed task is ignored → backend ttl 100",
        record("completed", { errorTtl: 2 }),
        { ttl: 100, errorTtl: 10 },
        100,
      ],
    ];
    it.each(cases)("%s", (_name, data, defaults, expected) => {
      expect(resolveTtl(data, defaults)).toBe(expected);
    });
  });

  it("TTL-1 unfinished records never expire, whatever the task or backend says", () => {
    for (const status of ["new", "pending", "scheduled", "processing", "retrying"] as const) {
      expect(resolveTtl(record(status, { ttl: 1, errorTtl: 1 }, false), { ttl: 1 })).toBeNull();
    }
  });

  it("TTL-2 a record without finishedAt is unfinished even if its status says completed or failed", () => {
    expect(resolveTtl(record("completed", { ttl: 5 }, false), { ttl: 5 })).toBeNull();
    expect(resolveTtl(record("failed", { errorTtl: 5 }, false), { ttl: 5 })).toBeNull();
  });

  it("TTL-2 a record given without finishedAt is unfinished; without config it inherits the backend's", () => {
    const noFinish = { status: "completed", config: BASE_CONFIG } as unknown as Parameters<
      typeof resolveTtl
    >[0];
    expect(resolveTtl(noFinish, { ttl: 5 })).toBeNull();
    const noConfig = {
      status: "failed",
      finishedAt: "2030-01-01T00:00:00.000Z",
    } as unknown as Parameters<typeof resolveTtl>[0];
    expect(resolveTtl(noConfig, { ttl: 5, errorTtl: 9 })).toBe(9);
    expect(resolveTtl({ ...noConfig, status: "completed" }, { ttl: 5 })).toBe(5);
    expect(resolveTtl(noConfig, {})).toBeNull();
  });

  it("TTL-3 completed and other non-error statuses: task ttl (number or null), else the backend's", () => {
    expect(resolveTtl(record("completed", { ttl: 7 }), { ttl: 100 })).toBe(7);
    expect(resolveTtl(record("completed", { ttl: null }), { ttl: 100 })).toBeNull();
    expect(resolveTtl(record("completed"), { ttl: 100, errorTtl: 3 })).toBe(100);
    // A status outside the error set is treated like completed.
    expect(resolveTtl(record("processing", { errorTtl: 1 }), { ttl: 100, errorTtl: 3 })).toBe(100);
  });

  it("TTL-4 / CR-11 / C-12 failed, crashed and cancelled all use the error chain", () => {
    for (const status of ["failed", "crashed", "cancelled"] as const) {
      expect(resolveTtl(record(status), { ttl: 100, errorTtl: 10 }), status).toBe(10);
      expect(resolveTtl(record(status, { ttl: 4 }), { ttl: 100, errorTtl: 10 }), status).toBe(4);
    }
  });

  it("TTL-4 every level inheriting means no expiry", () => {
    expect(resolveTtl(record("failed"), {})).toBeNull();
    expect(resolveTtl(record("completed"), {})).toBeNull();
  });

  it("TTL-6 null at a level that is reached keeps forever: backend ttl null + completed", () => {
    expect(resolveTtl(record("completed"), { ttl: null })).toBeNull();
    expect(resolveTtl(record("failed"), { ttl: 10, errorTtl: null })).toBeNull();
    expect(resolveTtl(record("failed"), { ttl: null, errorTtl: 3 })).toBe(3);
  });

  it("TTL-7 records without ttl keys in their config (older data) inherit", () => {
    const old = record("failed");
    expect("ttl" in old.config || "errorTtl" in old.config).toBe(false);
    expect(resolveTtl(old, { ttl: 100, errorTtl: 10 })).toBe(10);
  });
});

describe("expiryOf", () => {
  it("is the store time plus the TTL in ms, or null to keep forever", () => {
    expect(expiryOf(record("completed", { ttl: 1.5 }), {}, 1000)).toBe(2500);
    expect(expiryOf(record("completed", { ttl: null }), { ttl: 5 }, 1000)).toBeNull();
    expect(expiryOf(record("pending", {}, false), { ttl: 5 }, 1000)).toBeNull();
  });
});

describe("backend retention options", () => {
  it("TTL-9 (decided) bounded by default on every backend: completed 12 h, errors 7 days, 10,000 expiring results and 100,000 expiring failures", () => {
    const bounded = {
      ttl: 12 * 3600,
      errorTtl: 7 * 24 * 3600,
      maxFinished: 10_000,
      maxFailed: 100_000,
    };
    expect(new MemoryBackend({ instantProcessing: false }).retention).toEqual(bounded);
    expect(new RedisBackend().retention).toEqual(bounded);
    expect(new RedisBackend({ ttl: null, errorTtl: 60 }).retention).toEqual({
      ttl: null,
      errorTtl: 60,
      maxFinished: 10_000,
      maxFailed: 100_000,
    });
    // A backend given only a ttl lets error records inherit it, as a task's options do.
    expect(new RedisBackend({ ttl: 100 }).retention).toEqual({
      ttl: 100,
      errorTtl: undefined,
      maxFinished: 10_000,
      maxFailed: 100_000,
    });
    expect(new MemoryBackend({ ttl: null, maxFinished: null, maxFailed: 5 }).retention).toEqual({
      ttl: null,
      errorTtl: undefined,
      maxFinished: null,
      maxFailed: 5,
    });
  });

  it("maxFinished and maxFailed are integers ≥ 1 or null; anything else is refused at construction", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "10"]) {
      expect(() => new MemoryBackend({ maxFinished: bad as number })).toThrow(
        /MemoryBackend option maxFinished must be an integer ≥ 1, or null/,
      );
      expect(() => new MemoryBackend({ maxFailed: bad as number })).toThrow(
        /MemoryBackend option maxFailed must be an integer ≥ 1, or null/,
      );
    }
  });

  it("TTL-8 a TTL is seconds > 0 or null; 0, negatives and non-numbers are refused at construction", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e13, "10"]) {
      expect(() => resolveRetention("TestBackend", { ttl: bad as number }, null)).toThrow(
        InvalidOptionError,
      );
      expect(() => new MemoryBackend({ errorTtl: bad as number })).toThrow(
        /MemoryBackend option errorTtl must be a number of seconds > 0 and ≤ 315360000 \(10 years\), or null/,
      );
    }
    expect(() => new RedisBackend({ ttl: 0 })).toThrow(/RedisBackend option ttl/);
    expect(resolveRetention("TestBackend", { ttl: 0.25, errorTtl: null }, 9)).toEqual({
      ttl: 0.25,
      errorTtl: null,
    });
  });
});
