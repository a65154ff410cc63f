/**
 * The one versioned JSON encoding of task records: encode / decode round trip,
 * and a clear SerializationError naming the field for anything malformed.
 */
import { SerializationError, Task, type TaskData, task } from "sheppy";
import { decodeTaskData, encodeTaskData } from "sheppy/backend";
import { describe, expect, test } from "vitest";
import { checkTaskData, isUnreadableStandIn, malformedRecord } from "../../src/task/task-codec.js";

const greet = task({ name: "codec-greet", retry: 2, retryDelay: [1, 5] }, (name: string) => name);

function sample(): TaskData {
  return greet("Ada").toJSON();
}

/** Decodes `record` (after a JSON round trip) and returns the error message it fails with. */
function failure(record: unknown, where?: string): string {
  try {
    decodeTaskData(JSON.stringify(record), where);
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    return (error as Error).message;
  }
  throw new Error("expected decoding to fail");
}

function without(field: keyof TaskData): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...sample() };
  delete copy[field];
  return copy;
}

describe("encode / decode", () => {
  test("T-24 a record survives encode → decode deep-equal", () => {
    const data = sample();
    const decoded = decodeTaskData(encodeTaskData(data));
    expect(decoded).toEqual(data);
    expect(new Task(decoded, null).toJSON()).toEqual(data);
  });

  test("the encoding is versioned and carries every field", () => {
    const parsed = JSON.parse(encodeTaskData(sample())) as Record<string, unknown>;
    expect(parsed.v).toBe(2);
    expect(Object.keys(parsed).sort()).toEqual(
      [
        "v",
        "id",
        "name",
        "args",
        "status",
        "result",
        "error",
        "config",
        "createdAt",
        "scheduledAt",
        "startedAt",
        "finishedAt",
        "retryCount",
        "lastRetryAt",
        "nextRetryAt",
        "workflowId",
        "cronId",
        "priority",
        "concurrencyKey",
        "meta",
      ].sort(),
    );
  });

  test("a finished record with an error and timestamps round-trips", () => {
    const data: TaskData = {
      ...sample(),
      status: "failed",
      error: {
        type: "TypeError",
        message: "boom",
        stack: "TypeError: boom\n    at x",
        cause: null,
      },
      startedAt: "2024-01-01T00:00:00.000Z",
      finishedAt: "2024-01-01T00:00:01.000Z",
      retryCount: 2,
      lastRetryAt: "2024-01-01T00:00:00.500Z",
      nextRetryAt: "2024-01-01T00:00:00.600Z",
    };
    expect(decodeTaskData(encodeTaskData(data))).toEqual(data);
  });

  test("checkTaskData accepts an already-parsed object and returns it", () => {
    const raw = JSON.parse(encodeTaskData(sample())) as unknown;
    expect(checkTaskData(raw)).toBe(raw);
  });
});

describe("malformed records are a SerializationError naming the field", () => {
  test("text that is not JSON", () => {
    expect(() => decodeTaskData("{not json")).toThrow(SerializationError);
    expect(() => decodeTaskData("{not json")).toThrow(/^malformed task record: not JSON \(/);
  });

  test("the location in the message can be chosen by the caller", () => {
    expect(() => decodeTaskData("", "record 'abc' in queue 'q'")).toThrow(
      "malformed record 'abc' in queue 'q': not JSON",
    );
    expect(failure({ ...sample(), id: "" }, "redis key x")).toBe(
      "malformed redis key x: field 'id' must be a non-empty string",
    );
  });

  test.each([
    ["an array", [1, 2]],
    ["null", null],
    ["a string", "task"],
    ["a number", 5],
  ])("a top-level %s", (_what, value) => {
    expect(failure(value)).toBe("malformed task record: field '(record)' must be an object");
  });

  test("a missing or unknown version", () => {
    expect(failure(without("v"))).toBe(
      "malformed task record: field 'v' must be a known version (1, 2 or 3; got none)",
    );
    expect(failure({ ...sample(), v: 4 })).toBe(
      "malformed task record: field 'v' must be a known version (1, 2 or 3; got 4, written by a newer Sheppy? upgrade sheppy to read it)",
    );
    expect(failure({ ...sample(), v: "1" })).toBe(
      "malformed task record: field 'v' must be a known version (1, 2 or 3; got \"1\")",
    );
  });

  test("the failed stand-in of an unusable record keeps its name and creation time, when it says them", () => {
    const now = Date.parse("2030-01-01T00:00:00.000Z");
    const stored = { ...sample(), v: 9, createdAt: "2029-12-31T23:00:00.000Z" };
    const standIn = malformedRecord(stored.id, stored, "unreadable", now);
    expect([standIn.name, standIn.createdAt, standIn.finishedAt]).toEqual([
      "codec-greet",
      "2029-12-31T23:00:00.000Z",
      "2030-01-01T00:00:00.000Z",
    ]);
    expect(isUnreadableStandIn(standIn)).toBe(true);
    // Epoch ms, as compact forms keep instants; anything else reads as the time it was read.
    const compact = malformedRecord("x", { createdAt: now - 5000 }, "unreadable", now);
    expect(compact.createdAt).toBe("2029-12-31T23:59:55.000Z");
    for (const createdAt of ["yesterday", 1e20, 1.5, null]) {
      expect(malformedRecord("x", { createdAt }, "unreadable", now).createdAt).toBe(
        "2030-01-01T00:00:00.000Z",
      );
    }
    // A task's own failure is not a stand-in, even one failing with a SerializationError.
    expect(isUnreadableStandIn(sample())).toBe(false);
  });

  test("a record of version 1 is upgraded: the fields version 2 added take their defaults", () => {
    const current = sample();
    const { priority: _p, concurrencyKey: _k, meta: _m, ...old } = current;
    const upgraded = checkTaskData({ ...old, v: 1 });
    expect(upgraded).toEqual(current);
  });

  test.each([
    ["priority", { ...sample(), priority: "high" }, "field 'priority' must be a number"],
    ["concurrencyKey", { ...sample(), concurrencyKey: 5 }, "field 'concurrencyKey' must be"],
    ["meta", { ...sample(), meta: [] }, "field 'meta' must be an object"],
    [
      "config.retryDelay",
      { ...sample(), config: { ...sample().config, retryDelay: "abc" } },
      "config.retryDelay",
    ],
    [
      "config.retryDelay",
      { ...sample(), config: { ...sample().config, retryDelay: [] } },
      "config.retryDelay",
    ],
    [
      "config.timeout",
      { ...sample(), config: { ...sample().config, timeout: 0 } },
      "config.timeout",
    ],
    [
      "config.retryOnCrash",
      { ...sample(), config: { ...sample().config, retryOnCrash: 1 } },
      "config.retryOnCrash",
    ],
    [
      "config.rateLimit.maxRate",
      {
        ...sample(),
        config: {
          ...sample().config,
          rateLimit: { maxRate: "x", ratePeriod: 1, key: "k", strategy: "fixed_window" },
        },
      },
      "config.rateLimit.maxRate",
    ],
    [
      "config.rateLimit.strategy",
      {
        ...sample(),
        config: {
          ...sample().config,
          rateLimit: { maxRate: 1, ratePeriod: 1, key: "k", strategy: "leaky" },
        },
      },
      "config.rateLimit.strategy",
    ],
    ["config.ttl", { ...sample(), config: { ...sample().config, ttl: -1 } }, "config.ttl"],
  ])("stored options a worker acts on are checked too: %s", (_field, record, message) => {
    expect(failure(record)).toContain(message);
  });

  test.each([
    ["id", without("id"), "field 'id' must be a non-empty string"],
    ["id", { ...sample(), id: 7 }, "field 'id' must be a non-empty string"],
    ["name", without("name"), "field 'name' must be a non-empty string"],
    ["name", { ...sample(), name: "" }, "field 'name' must be a non-empty string"],
    ["args", without("args"), "field 'args' must be an array"],
    ["args", { ...sample(), args: { 0: 1 } }, "field 'args' must be an array"],
    ["status", without("status"), "field 'status' must be a task status"],
    ["status", { ...sample(), status: "done" }, "field 'status' must be a task status"],
    ["result", without("result"), "field 'result' must be present (null when none)"],
    ["error", { ...sample(), error: "boom" }, "field 'error' must be null or an error record"],
    ["error", { ...sample(), error: { message: "x" } }, "field 'error' must be null or an error"],
    ["config", without("config"), "field 'config' must be an object"],
    ["config", { ...sample(), config: null }, "field 'config' must be an object"],
    ["config.retry", { ...sample(), config: {} }, "field 'config.retry' must be an integer ≥ 0"],
    ["retryCount", without("retryCount"), "field 'retryCount' must be an integer ≥ 0"],
    ["retryCount", { ...sample(), retryCount: "0" }, "field 'retryCount' must be an integer ≥ 0"],
    [
      "createdAt",
      { ...sample(), createdAt: null },
      "field 'createdAt' must be an ISO-8601 instant",
    ],
    ["createdAt", { ...sample(), createdAt: "yesterday" }, "field 'createdAt' must be an ISO"],
    ["finishedAt", { ...sample(), finishedAt: 12 }, "field 'finishedAt' must be an ISO-8601"],
    ["scheduledAt", without("scheduledAt"), "field 'scheduledAt' must be an ISO-8601"],
    ["nextRetryAt", { ...sample(), nextRetryAt: "soon" }, "field 'nextRetryAt' must be an ISO"],
  ])("field %s", (_field, record, message) => {
    const text = failure(record);
    expect(text.startsWith("malformed task record: ")).toBe(true);
    expect(text).toContain(message);
  });

  test("every status of the lifecycle is accepted", () => {
    for (const status of [
      "new",
      "pending",
      "scheduled",
      "processing",
      "retrying",
      "completed",
      "failed",
      "crashed",
      "cancelled",
    ] as const) {
      expect(decodeTaskData(JSON.stringify({ ...sample(), status })).status).toBe(status);
    }
  });
});
