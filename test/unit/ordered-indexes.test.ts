/**
 * The in-memory indexes every queue operation goes through — the due index,
 * the time queue and heap under it, and the claimable queue — checked against plain
 * models on random operation sequences: whatever order entries come in, and
 * however they are removed again, they come out in time order (FIFO order),
 * each exactly once, and a removed entry never comes back.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClaimableQueue } from "../../src/backends/memory/memory-claimable-queue.js";
import { DueIndex } from "../../src/backends/memory/memory-due-index.js";
import { MinHeap } from "../../src/util/min-heap.js";
import { TimeQueue } from "../../src/util/time-queue.js";

const id = fc.integer({ min: 0, max: 40 }).map((n) => `t${n}`);
// Mostly ascending times, as expiries are, with jumps back now and then.
const time = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 10 }) },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
);

const dueOps = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant("add" as const), id, step: time }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), id }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("takeDue" as const),
        now: fc.integer({ min: -200, max: 2000 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
  ),
  { maxLength: 300 },
);

describe("DueIndex", () => {
  it("takes the live ids due, earliest first, each once, whatever order they arrived in", () => {
    fc.assert(
      fc.property(dueOps, (ops) => {
        const index = new DueIndex();
        let model = new Map<string, number>();
        let clock = 0;
        for (const step of ops) {
          if (step.op === "add") {
            clock += step.step;
            index.add(step.id, clock);
            model.set(step.id, clock);
          } else if (step.op === "delete") {
            expect(index.delete(step.id)).toBe(model.delete(step.id));
          } else if (step.op === "takeDue") {
            const taken = index.takeDue(step.now);
            const expected = [...model].filter(([, at]) => at <= step.now).map(([i]) => i);
            expect([...taken].sort()).toEqual([...expected].sort());
            const times = taken.map((t) => model.get(t)!);
            expect(times).toEqual([...times].sort((a, b) => a - b));
            for (const t of taken) model.delete(t);
          } else {
            index.clear();
            model = new Map();
          }
          expect(index.size).toBe(model.size);
          for (const key of model.keys()) expect(index.has(key)).toBe(true);
        }
        expect(new Set(index.ordered())).toEqual(new Set(model.keys()));
      }),
      { numRuns: 500 },
    );
  });
});

describe("TimeQueue", () => {
  it("pops every value once, in time order, whatever order the times arrive in", () => {
    const ops = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ push: time }) },
        { weight: 2, arbitrary: fc.record({ pop: fc.integer({ min: 1, max: 5 }) }) },
      ),
      { maxLength: 400 },
    );
    fc.assert(
      fc.property(ops, (steps) => {
        const queue = new TimeQueue<number>();
        const model: number[] = [];
        let clock = 0;
        let serial = 0;
        const times = new Map<number, number>();
        for (const step of steps) {
          if ("push" in step) {
            clock += step.push;
            times.set(serial, clock);
            queue.push(clock, serial++);
            model.push(clock);
          } else {
            for (let i = 0; i < step.pop; i++) {
              model.sort((a, b) => a - b);
              const expected = model.shift();
              expect(queue.peekAt()).toBe(expected);
              const value = queue.pop();
              expect(value === undefined ? undefined : times.get(value)).toBe(expected);
            }
          }
          expect(queue.size).toBe(model.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("keeps time order across the compaction of its ordered queue", () => {
    const queue = new TimeQueue<string>();
    const expected: string[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 700; i++) {
        queue.push(round * 1000 + i, `r${round}-${i}`);
        expected.push(`r${round}-${i}`);
      }
      // One late arrival per round goes to the heap and must come out in its place.
      queue.push(round * 1000 + 350.5, `late${round}`);
      expected.splice(expected.indexOf(`r${round}-350`) + 1, 0, `late${round}`);
    }
    const taken: string[] = [];
    for (let value = queue.pop(); value !== undefined; value = queue.pop()) taken.push(value);
    expect(taken).toEqual(expected);
  });
});

describe("MinHeap", () => {
  it("pops keys in ascending order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 500 }), (keys) => {
        const heap = new MinHeap<number>();
        for (const [i, key] of keys.entries()) heap.push(key, i);
        const popped: number[] = [];
        while (heap.size > 0) popped.push(keys[heap.pop()!]!);
        expect(popped).toEqual([...keys].sort((a, b) => a - b));
      }),
    );
  });
});

describe("ClaimableQueue", () => {
  it("shifts queued entries in the order they were added, each once, skipping removed ones", () => {
    const ops = fc.array(
      fc.oneof(
        fc.record({ op: fc.constant("add" as const), id }),
        fc.record({ op: fc.constant("delete" as const), id }),
        fc.record({ op: fc.constant("shift" as const) }),
      ),
      { maxLength: 3000 },
    );
    fc.assert(
      fc.property(ops, (steps) => {
        const queue = new ClaimableQueue<{ name: string; queueTicket: number }>();
        const entries = new Map<string, { name: string; queueTicket: number }>();
        const entryOf = (name: string) => {
          let entry = entries.get(name);
          if (!entry) {
            entry = { name, queueTicket: 0 };
            entries.set(name, entry);
          }
          return entry;
        };
        let model: string[] = [];
        for (const step of steps) {
          if (step.op === "add") {
            queue.add(entryOf(step.id));
            if (!model.includes(step.id)) model.push(step.id);
          } else if (step.op === "delete") {
            expect(queue.delete(entryOf(step.id))).toBe(model.includes(step.id));
            model = model.filter((m) => m !== step.id);
          } else {
            expect(queue.shift()?.name).toBe(model.shift());
          }
          expect(queue.size).toBe(model.length);
          for (const [name, entry] of entries) expect(queue.has(entry)).toBe(model.includes(name));
        }
        expect([...queue].map((e) => e.name)).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps its order across the compaction of its front", () => {
    const queue = new ClaimableQueue<{ n: number; queueTicket: number }>();
    const all = Array.from({ length: 5000 }, (_, n) => ({ n, queueTicket: 0 }));
    for (const entry of all) queue.add(entry);
    // Every third entry leaves and comes back at the end.
    const expected: number[] = [];
    for (const entry of all) {
      if (entry.n % 3 === 0) queue.delete(entry);
      else expected.push(entry.n);
    }
    for (const entry of all) if (entry.n % 3 === 0) queue.add(entry);
    for (const entry of all) if (entry.n % 3 === 0) expected.push(entry.n);
    const taken: number[] = [];
    for (let i = 0; i < 2000; i++) taken.push(queue.shift()!.n);
    queue.add({ n: -1, queueTicket: 0 });
    expected.push(-1);
    for (let entry = queue.shift(); entry; entry = queue.shift()) taken.push(entry.n);
    expect(taken).toEqual(expected);
    expect(queue.size).toBe(0);
  });
});
