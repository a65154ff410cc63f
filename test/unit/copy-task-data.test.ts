/**
 * The field-by-field copy of a record gives what a spread gives: the same
 * own fields with the same values (those it does not name included, even
 * one called "__proto__", and none added where a record lacks one every
 * record has), the changes applied over them, a plain object
 * that is not frozen, and the original untouched.
 */
import fc from "fast-check";
import type { TaskData } from "sheppy";
import { describe, expect, it } from "vitest";
import { deepFreeze } from "../../src/json.js";
import { copyTaskData } from "../../src/task/task-record.js";
import { record } from "../support/record-arbitrary.js";

/**
 * A record with fields of its own beyond the known ones (as a newer version
 * may write), and lacking some every record has (as a hand-written one may).
 */
const withExtras = fc
  .tuple(
    record,
    fc.dictionary(fc.constantFrom("__proto__", "extra", "resultKind", "later"), fc.jsonValue()),
    fc.subarray(["meta", "cronId", "priority", "result", "v"]),
  )
  .map(([data, extras, missing]) => {
    const copy = { ...data } as Record<string, unknown>;
    for (const key of missing) delete copy[key];
    for (const [key, value] of Object.entries(extras)) {
      Object.defineProperty(copy, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy as unknown as TaskData;
  });

const changes = fc.record(
  {
    status: fc.constantFrom("pending", "scheduled"),
    priority: fc.integer({ min: -5, max: 5 }),
    scheduledAt: fc.constant("2030-01-01T00:00:00.000Z"),
  },
  { requiredKeys: ["status"] },
) as fc.Arbitrary<Partial<TaskData>>;

describe("copyTaskData", () => {
  it("gives what a spread with the changes gives, frozen source or not (property)", () => {
    fc.assert(
      fc.property(withExtras, changes, fc.boolean(), (data, change, frozen) => {
        const before = structuredClone(data);
        const source = frozen ? deepFreeze(data) : data;
        const copy = copyTaskData(source, change);
        const spread = { ...source, ...change };
        expect(Object.keys(copy).sort()).toEqual(Object.keys(spread).sort());
        for (const key of Object.keys(spread)) {
          expect((copy as unknown as Record<string, unknown>)[key]).toBe(
            (spread as unknown as Record<string, unknown>)[key],
          );
        }
        expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
        expect(Object.isFrozen(copy)).toBe(false);
        expect(data).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
