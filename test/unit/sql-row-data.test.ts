/**
 * A SQL task row keeps its record JSON in the compact form: read back with
 * its columns, any record is deep-equal to its whole form, and the JSON is
 * never longer than the whole form's; rows an earlier version wrote in the
 * whole form read the same.
 */
import fc from "fast-check";
import type { TaskData } from "sheppy";
import { describe, expect, it } from "vitest";
import { encodeRowData, readRecordRow } from "../../src/backends/sql/stored-columns.js";
import { decodeTaskData, encodeTaskData } from "../../src/task/task-codec.js";
import { record } from "../support/record-arbitrary.js";

const now = Date.parse("2026-12-03T10:00:00.000Z");
const whole = (data: TaskData) => decodeTaskData(encodeTaskData(data));
const row = (data: TaskData, text: string) => ({
  id: data.id,
  data: text,
  status: data.status,
  started_at: null,
  finished_at: null,
});

describe("SQL row data", () => {
  it("compact JSON reads back deep-equal to the whole form, and is never longer (property)", () => {
    fc.assert(
      fc.property(record, (data) => {
        const text = encodeRowData(data);
        expect(readRecordRow(row(data, text), now, "PostgreSQL")).toEqual(whole(data));
        expect(text.length).toBeLessThanOrEqual(encodeTaskData(data).length);
        expect((JSON.parse(text) as { v: unknown }).v).toBe(3);
      }),
      { numRuns: 500 },
    );
  });

  it("rows in the whole form, as an earlier version wrote them, read as before (property)", () => {
    fc.assert(
      fc.property(record, (data) => {
        expect(readRecordRow(row(data, encodeTaskData(data)), now, "SQLite")).toEqual(whole(data));
      }),
      { numRuns: 200 },
    );
  });
});
