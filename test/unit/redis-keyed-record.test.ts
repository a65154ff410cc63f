/**
 * A Redis task hash keeps its record's JSON in the keyed form: the compact
 * form without what the hash keeps beside it (the id in the key, the status
 * in a field of its own, and, as a settle writes it, `startedAt` and
 * `finishedAt`). Read back with those fields, any record is deep-equal to
 * its full form; without its status field it is a `failed` stand-in naming
 * the field, never a crash; and a small task's JSON fits the 64 bytes under
 * which Redis keeps a hash in its compact encoding.
 */
import fc from "fast-check";
import type { TaskData } from "sheppy";
import { describe, expect, it } from "vitest";
import {
  encodeKeyedRecord,
  encodeSettledRecord,
  readClaims,
  readRecord,
} from "../../src/backends/redis/record-codec.js";
import {
  decodeTaskData,
  encodeCompactTaskData,
  encodeTaskData,
} from "../../src/task/task-codec.js";
import { TASK_STATUSES } from "../../src/task/task-record.js";
import { record } from "../support/record-arbitrary.js";

const now = Date.parse("2026-12-02T07:00:00.000Z");
const CREATED = "2026-12-02T06:41:22.472Z";
const full = (data: TaskData) => decodeTaskData(encodeTaskData(data));

describe("keyed task records (Redis)", () => {
  it("read back deep-equal to the full form, with the fields kept beside them (property)", () => {
    fc.assert(
      fc.property(record, (data) => {
        const keyed = encodeKeyedRecord(data);
        expect(readRecord(data.id, keyed, { status: data.status }, now)).toEqual(full(data));
        const settled = encodeSettledRecord(data);
        const fields = {
          status: data.status,
          startedAt: data.startedAt,
          finishedAt: data.finishedAt,
        };
        expect(readRecord(data.id, settled, fields, now)).toEqual(full(data));
        for (const text of [keyed, settled]) {
          const stored = JSON.parse(text) as Record<string, unknown>;
          expect(stored.v).toBe(4);
          expect(stored).not.toHaveProperty("id");
          expect(stored).not.toHaveProperty("status");
          expect(text.length).toBeLessThan(encodeCompactTaskData(data).length);
        }
        expect(JSON.parse(settled)).not.toHaveProperty("startedAt");
        expect(JSON.parse(settled)).not.toHaveProperty("finishedAt");
      }),
      { numRuns: 500 },
    );
  });

  it("records an earlier version wrote (the whole compact form) read as before", () => {
    fc.assert(
      fc.property(record, (data) => {
        const earlier = encodeCompactTaskData(data);
        expect(readRecord(data.id, earlier, { status: data.status }, now)).toEqual(full(data));
      }),
      { numRuns: 200 },
    );
  });

  it("a keyed record whose hash lost its status field is a failed stand-in naming the field", () => {
    fc.assert(
      fc.property(record, (data) => {
        const read = readRecord(data.id, encodeKeyedRecord(data), {}, now);
        expect(read.id).toBe(data.id);
        expect(read.status).toBe("failed");
        expect(read.error?.type).toBe("SerializationError");
        expect(read.error?.message).toContain("field 'status' must be a task status");
      }),
      { numRuns: 100 },
    );
  });

  it("a status field that is no task status, beside any form of record or in a claim, reads as a failed stand-in naming the field (property)", () => {
    const statuses = new Set<string>(TASK_STATUSES);
    const damaged = fc.string({ minLength: 1 }).filter((text) => !statuses.has(text));
    fc.assert(
      fc.property(record, damaged, (data, status) => {
        const forms = [encodeKeyedRecord(data), encodeCompactTaskData(data)];
        const reads = forms.map((text) => readRecord(data.id, text, { status }, now));
        const [claimed] = readClaims(
          ["2026-12-02T07:00:01.000Z", data.id, forms[0]!, "3", status],
          now,
        );
        for (const read of [...reads, claimed!.record]) {
          expect([read.id, read.status, read.error?.type]).toEqual([
            data.id,
            "failed",
            "SerializationError",
          ]);
          expect(read.error?.message).toContain("field 'status' must be a task status");
          expect(read.finishedAt).not.toBeNull();
        }
        expect(claimed!.fence).toBe(3);
      }),
      { numRuns: 300 },
    );
  });

  it("a claim with no damaged status reads every record as processing since the claim's start", () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), (records) => {
        const startedAt = "2026-12-02T07:00:01.000Z";
        const flat = [
          startedAt,
          ...records.flatMap((data, n) => [data.id, encodeKeyedRecord(data), String(n + 1), ""]),
        ];
        const claims = readClaims(flat, now);
        expect(
          claims.map((c) => [c.record.id, c.record.status, c.record.startedAt, c.fence]),
        ).toEqual(records.map((data, n) => [data.id, "processing", startedAt, n + 1]));
      }),
      { numRuns: 200 },
    );
  });

  it("instants are epoch ms only where they read back as the same text", () => {
    const base = decodeTaskData(
      JSON.stringify({ v: 3, id: "x", name: "noop", status: "pending", createdAt: CREATED }),
    );
    for (const createdAt of [
      "2026-12-02T06:41:22Z",
      "2026-12-02T06:41:22.4721Z",
      "2026-12-02T07:41:22.472+01:00",
      "1970-01-01T00:00:00.000Z",
      "0001-01-01T00:00:00.000Z",
    ]) {
      const data = { ...base, createdAt };
      const stored = JSON.parse(encodeKeyedRecord(data)) as { createdAt: unknown };
      expect(typeof stored.createdAt).toBe(
        new Date(Date.parse(createdAt)).toISOString() === createdAt ? "number" : "string",
      );
      expect(readRecord("x", encodeKeyedRecord(data), { status: "pending" }, now)).toEqual(
        full(data),
      );
    }
  });

  it("any text of toISOString()'s shape reads back as itself, valid date or not (property)", () => {
    const digits = (n: number) =>
      fc.integer({ min: 0, max: 10 ** n - 1 }).map((v) => String(v).padStart(n, "0"));
    const shaped = fc
      .tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3))
      .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
    const base = decodeTaskData(
      JSON.stringify({ v: 3, id: "x", name: "noop", status: "pending", createdAt: CREATED }),
    );
    fc.assert(
      fc.property(shaped, (text) => {
        const stored = JSON.parse(encodeKeyedRecord({ ...base, scheduledAt: text })) as {
          scheduledAt: unknown;
        };
        const ms = Date.parse(text);
        const exact = Number.isFinite(ms) && new Date(ms).toISOString() === text;
        expect(stored.scheduledAt).toBe(exact ? ms : text);
        if (exact) {
          const read = readRecord("x", JSON.stringify(stored), { status: "pending" }, now);
          expect(read.scheduledAt).toBe(text);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a stored instant that is a number out of range is a failed stand-in naming the field", () => {
    const text = JSON.stringify({ v: 4, name: "noop", createdAt: 9e15 });
    const read = readRecord("x", text, { status: "pending" }, now);
    expect(read.status).toBe("failed");
    expect(read.error?.message).toContain("field 'createdAt'");
  });

  it("a small task's JSON, waiting and finished, fits Redis's compact hash encoding (64 bytes)", () => {
    const name = "emails.send-welcome"; // 19 characters
    const waiting = decodeTaskData(
      JSON.stringify({ v: 3, id: "x", name, status: "pending", createdAt: CREATED }),
    );
    expect(JSON.parse(encodeKeyedRecord(waiting))).toEqual({
      v: 4,
      name,
      createdAt: Date.parse(CREATED),
    });
    expect(encodeKeyedRecord(waiting).length).toBeLessThanOrEqual(64);
    const finished: TaskData = {
      ...waiting,
      status: "completed",
      startedAt: "2026-12-02T06:41:22.500Z",
      finishedAt: "2026-12-02T06:41:22.510Z",
    };
    expect(encodeSettledRecord(finished)).toBe(encodeKeyedRecord(waiting));
  });
});
