/**
 * A property for an event log, checked against a plain list: random
 * runs of appends (of 1 to 12 bodies, under caps of 1 to 9 that change
 * between appends, as processes with different caps would) and clears. After
 * each step a reader must see the newest `cap` events appended since the
 * last clear, with ids consecutive within an append and growing, never
 * given twice; reads from every position of interest (the start, each kept
 * id, one before the oldest, the newest given) with limits of 1 to 15 return
 * exactly the list's slice, `lastEventId` its newest id, and a read past the
 * newest id given is refused.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { EventLog, TaskStore } from "../../src/backends/backend.js";
import { InvalidOptionError } from "../../src/errors.js";

/** How a log's positions order: as whole numbers (the SQL backends'), or by a mapping to them. */
export interface Positions {
  rank(id: string): bigint;
  name(rank: bigint): string;
}

const DECIMAL: Positions = { rank: (id) => BigInt(id), name: (rank) => String(rank) };

/** Redis stream ids (`<ms>-<seq>`), ranked as ms · 2⁶⁴ + seq. */
export const STREAM_IDS: Positions = {
  rank: (id) => {
    const [ms, seq] = id.split("-");
    return (BigInt(ms!) << 64n) + BigInt(seq!);
  },
  name: (rank) => `${rank >> 64n}-${rank & (2n ** 64n - 1n)}`,
};

/** What the property drives: the log, and `clear` to drop a queue's. */
export type LoggingBackend = EventLog & Pick<TaskStore, "clear">;

type Step = { kind: "append"; size: number; cap: number } | { kind: "clear" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      size: fc.integer({ min: 1, max: 12 }),
      cap: fc.integer({ min: 1, max: 9 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
);

/**
 * The property: `withCap(cap)` gives a connected backend whose appends keep
 * at most `cap` events (all on one store); `nextQueue()` a queue name no run
 * used before.
 */
export function logMatchesModel(
  withCap: (cap: number) => Promise<LoggingBackend>,
  nextQueue: () => string,
  positions: Positions = DECIMAL,
) {
  const { rank, name } = positions;
  return fc.asyncProperty(
    fc.array(step, { minLength: 1, maxLength: 14 }),
    fc.integer({ min: 1, max: 15 }),
    async (steps, limit) => {
      const queue = nextQueue();
      /** What a reader must see, oldest first. */
      let kept: { id: bigint; body: string }[] = [];
      let newest: bigint | null = null;
      let written = 0;
      for (const s of steps) {
        if (s.kind === "clear") {
          await (await withCap(1)).clear(queue);
          kept = [];
        } else {
          const backend = await withCap(s.cap);
          const bodies = Array.from({ length: s.size }, () => `b${++written}`);
          await backend.appendEvents(queue, bodies);
          const stored = await backend.readEvents(queue, { after: null, limit: 1000 });
          const ids = stored.map((e) => rank(e.id));
          for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1]! + 1n);
          if (newest !== null) expect(ids[ids.length - 1]! > newest).toBe(true);
          newest = ids[ids.length - 1]!;
          const last = newest;
          const appended = bodies.map((body, i) => ({
            id: last - BigInt(bodies.length - 1 - i),
            body,
          }));
          kept = [...kept, ...appended].slice(-s.cap);
        }
        const reader = await withCap(1);
        const all = await reader.readEvents(queue, { after: null, limit: 1000 });
        expect(all.map((e) => [rank(e.id), e.body])).toEqual(kept.map((e) => [e.id, e.body]));
        expect(await reader.lastEventId(queue)).toBe(
          kept.length > 0 ? name(kept[kept.length - 1]!.id) : null,
        );
        const after: (string | null)[] = [null, ...kept.map((e) => name(e.id))];
        if (kept.length > 0) after.push(name(kept[0]!.id - 1n));
        if (newest !== null) after.push(name(newest));
        for (const position of after) {
          const read = await reader.readEvents(queue, { after: position, limit });
          const expected = kept
            .filter((e) => position === null || e.id > rank(position))
            .slice(0, limit);
          expect(read.map((e) => [rank(e.id), e.body])).toEqual(
            expected.map((e) => [e.id, e.body]),
          );
        }
        // Past the newest id the log has given (cleared or not): refused, not a wait for nothing.
        if (newest !== null) {
          await expect(
            reader.readEvents(queue, { after: name(newest + 5n), limit }),
          ).rejects.toThrow(InvalidOptionError);
        }
      }
    },
  );
}
