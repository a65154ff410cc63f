/**
 * Reading an instant's text back as epoch milliseconds takes a shortcut for
 * the text written last; the answer is always what `Date.parse` gives. And a
 * store writing instants as numbers answers the same whichever record it
 * wrote before (it keeps its last answer).
 */
import fc from "fast-check";
import type { TaskData } from "sheppy";
import { describe, expect, it } from "vitest";
import { encodeKeyedRecord, readRecord } from "../../src/backends/redis/record-codec.js";
import { isoAt, msOfIso } from "../../src/clock.js";
import { decodeTaskData, encodeTaskData } from "../../src/task/task-codec.js";
import { record } from "../support/record-arbitrary.js";

/** Any instant a `Date` holds, fractional milliseconds and years past 9999 included. */
const instant = fc.oneof(
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
  fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
);

describe("instants read back from their text", () => {
  it("the text isoAt wrote last reads as Date.parse reads it (property)", () => {
    fc.assert(
      fc.property(instant, fc.string(), (ms, other) => {
        const text = isoAt(ms);
        expect(msOfIso(text)).toBe(Date.parse(text));
        expect(Object.is(msOfIso(other), Date.parse(other))).toBe(true);
        expect(msOfIso(text)).toBe(Date.parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("a record's instants read back the same whatever record was written before it (property)", () => {
    const full = (data: TaskData) => decodeTaskData(encodeTaskData(data));
    fc.assert(
      fc.property(fc.array(record, { minLength: 2, maxLength: 6 }), fc.nat(), (records, pick) => {
        // The same creation text twice in a row, then another, then the first again.
        const again = records[pick % records.length]!;
        for (const data of [...records, again, again, ...records.slice().reverse()]) {
          const text = encodeKeyedRecord(data);
          expect(readRecord(data.id, text, { status: data.status }, 0)).toEqual(full(data));
        }
      }),
      { numRuns: 200 },
    );
  });
});
