/**
 * The compact stored form leaves out every field at its default and reading
 * puts them back: any record reads back deep-equal to what the full form
 * gives, never longer, and a damaged compact record is still refused naming
 * the field.
 */
import fc from "fast-check";
import { SerializationError, type TaskData } from "sheppy";
import { describe, expect, it } from "vitest";
import {
  checkTaskData,
  decodeTaskData,
  encodeCompactTaskData,
  encodeTaskData,
} from "../../src/task/task-codec.js";
import { plain, record } from "../support/record-arbitrary.js";

describe("compact task records", () => {
  it("read back deep-equal to the full form, and never longer", () => {
    fc.assert(
      fc.property(record, (data) => {
        const full = decodeTaskData(encodeTaskData(data));
        const compact = encodeCompactTaskData(data);
        expect(decodeTaskData(compact)).toEqual(full);
        expect(compact.length).toBeLessThanOrEqual(encodeTaskData(data).length);
        expect(JSON.parse(compact).v).toBe(3);
      }),
      { numRuns: 500 },
    );
  });

  it("a task with its defaults keeps only what defines it", () => {
    const data = plain().toJSON();
    const stored = JSON.parse(encodeCompactTaskData(data)) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(["createdAt", "id", "name", "status", "v"]);
    expect(checkTaskData(stored)).toEqual(data);
  });

  it("a ttl of null (keep) is kept, not taken for the default", () => {
    const base = plain().toJSON();
    const data: TaskData = { ...base, config: { ...base.config, ttl: null } };
    const stored = JSON.parse(encodeCompactTaskData(data)) as { config?: { ttl?: unknown } };
    expect(stored.config).toEqual({ ttl: null });
    expect(decodeTaskData(encodeCompactTaskData(data)).config.ttl).toBeNull();
  });

  it("a damaged compact record is refused naming the field", () => {
    const stored = JSON.parse(encodeCompactTaskData(plain().toJSON())) as Record<string, unknown>;
    for (const [field, value, expected] of [
      ["args", "x", "field 'args' must be an array"],
      ["retryCount", -1, "field 'retryCount' must be an integer ≥ 0"],
      ["config", { retry: "2" }, "field 'config.retry' must be an integer ≥ 0"],
      ["meta", [], "field 'meta' must be an object"],
    ] as const) {
      expect(() => checkTaskData({ ...stored, [field]: value })).toThrow(SerializationError);
      expect(() => checkTaskData({ ...stored, [field]: value })).toThrow(expected);
    }
  });
});
