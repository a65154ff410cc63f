/**
 * Reschedule on records of every shape a store holds (arguments, metadata,
 * progress, concurrency keys, retry counts, priorities — each at its default
 * or not): a waiting task moved to now or to a time reads back as the
 * record that was written, its arguments and everything else the move does
 * not change intact; a move made from a read that no longer matches the
 * stored record (one field of it changed since) writes nothing, and the
 * stored record stays as it was. On each of Sheppy's backends.
 */
import fc from "fast-check";
import type { TaskData } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { rescheduledRecord } from "../../src/queue/reschedule-api.js";
import { eachBackend } from "../support/each-backend.js";
import { fileKey } from "../support/isolation.js";
import { record } from "../support/record-arbitrary.js";

const { backends, cleanUp } = await eachBackend(fileKey(import.meta.url), {
  instantProcessing: false,
});
afterAll(cleanUp);

const NOW = Date.now();
const HOUR = 3_600_000;

/** A record as `add` takes new work: pending, or scheduled for a time within a day. */
const waiting = fc.tuple(record, fc.boolean(), fc.integer({ min: 1, max: 24 * HOUR })).map(
  ([r, scheduled, ahead]): TaskData => ({
    ...r,
    status: scheduled ? "scheduled" : "pending",
    scheduledAt: scheduled ? new Date(NOW + ahead).toISOString() : null,
    nextRetryAt: null,
    startedAt: null,
    finishedAt: null,
    result: null,
  }),
);

/** Where the move goes: now (`null`) or this many ms ahead. */
const moveTo = fc.option(fc.integer({ min: 1, max: 48 * HOUR }), { nil: null });
const newPriority = fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined });

describe.each(backends)("%s", (name, available, make) => {
  // Skipped only when its service is unreachable outside CI; under CI=true requireService fails instead.
  it.skipIf(!available)(
    "a waiting record of any shape moves whole, and a stale read of it moves nothing",
    async () => {
      const backend = make();
      await backend.connect();
      let n = 0;
      try {
        await fc.assert(
          fc.asyncProperty(waiting, moveTo, newPriority, async (given, ahead, priority) => {
            const queue = `${name}-${n++}`;
            expect(await backend.add(queue, [given])).toEqual([true]);
            const read = (await backend.getTasks(queue, [given.id])).get(given.id)!;

            // A read one field of which has changed since: its move is refused, the record kept.
            const stale = { ...read, meta: { ...read.meta, changed: true } };
            const fromStale = rescheduledRecord(stale, Date.now(), Date.now());
            expect(await backend.reschedule(queue, stale, fromStale)).toBe(false);
            expect((await backend.getTasks(queue, [given.id])).get(given.id)).toEqual(read);

            const now = Date.now();
            const made = rescheduledRecord(read, now, ahead === null ? now : now + ahead, priority);
            expect(await backend.reschedule(queue, read, made)).toBe(true);
            const stored = (await backend.getTasks(queue, [given.id])).get(given.id)!;
            expect(stored).toEqual(made);
            await backend.clear(queue);
          }),
          { numRuns: 40 },
        );
      } finally {
        await backend.disconnect();
      }
    },
    60_000,
  );
});
