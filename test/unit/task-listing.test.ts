/**
 * What every backend's `listTasks` shares, checked on random input: a
 * cursor names its place exactly and nothing else decodes (hostile text, or
 * anything that is not text, is a one-line `InvalidOptionError`, never a
 * crash); ids compare as Redis orders equal scores (UTF-8 bytes); and the
 * memory backend's creation index, however records come, go and come back
 * during a walk, returns every record present throughout exactly once,
 * newest first.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ListTasksRequest } from "../../src/backends/backend.js";
import { MemoryQueueState } from "../../src/backends/memory/memory-queue-state.js";
import { listPage } from "../../src/backends/memory/memory-reads.js";
import {
  checkListRequest,
  comparePositions,
  compareTaskIds,
  decodeListCursor,
  encodeListCursor,
  isListCursor,
  type ListPosition,
} from "../../src/backends/task-listing.js";
import { InvalidOptionError } from "../../src/errors.js";
import { type TaskData, task } from "../../src/index.js";

const MAX_TIME = 8.64e15;
/** Ids as applications make them: any well-formed text (no lone surrogates). */
const anyId = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 });
const position = fc.record({ at: fc.integer({ min: -MAX_TIME, max: MAX_TIME }), id: anyId });

/** Runs `decode` on `input`: a position, or the message of the `InvalidOptionError` it threw. */
function attempt(input: unknown): ListPosition | string {
  try {
    return decodeListCursor(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as Error).message;
  }
}

function expectOneLine(message: string): void {
  expect(message).toMatch(/^listTasks: invalid cursor /);
  expect(message).not.toMatch(/[\n\r\u2028\u2029]/);
  expect(message.includes(String.fromCharCode(0))).toBe(false);
  expect(message.length).toBeLessThan(300);
}

describe("listTasks cursors", () => {
  it("decode what encode made, exactly", () => {
    fc.assert(
      fc.property(position, (p) => {
        const cursor = encodeListCursor(p);
        expect(cursor).toMatch(/^-?\d+\.[A-Za-z0-9_-]+$/);
        expect(isListCursor(cursor)).toBe(true);
        expect(decodeListCursor(cursor)).toEqual(p);
      }),
    );
  });

  it("refuse hostile text with a one-line InvalidOptionError, or decode it only when it is a cursor's own text", () => {
    const mutated = fc
      .tuple(position, fc.nat(), fc.string({ unit: "binary", maxLength: 4 }), fc.nat({ max: 3 }))
      .map(([p, at, insert, drop]) => {
        const cursor = encodeListCursor(p);
        const i = at % (cursor.length + 1);
        return cursor.slice(0, i) + insert + cursor.slice(i + drop);
      });
    const hostile = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary", maxLength: 100 }),
      fc.stringMatching(/^-?\d{0,20}\.[A-Za-z0-9_=+/-]{0,12}$/),
      mutated,
    );
    fc.assert(
      fc.property(hostile, (text) => {
        const result = attempt(text);
        if (typeof result === "string") expectOneLine(result);
        else expect(encodeListCursor(result)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuse anything that is not text, and very long text, without touching it", () => {
    const trap = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    for (const input of [12, 1n, true, {}, [], Symbol("s"), () => "x", trap]) {
      const result = attempt(input);
      expect(typeof result).toBe("string");
      expectOneLine(result as string);
    }
    expectOneLine(attempt(`1.${"A".repeat(1_000_000)}`) as string);
    expectOneLine(attempt(`${"9".repeat(10_000)}.YQ`) as string);
  });

  it("checkListRequest refuses bad limits and statuses with an InvalidOptionError, whatever they are", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (limit, statuses) => {
        const request = { limit, statuses } as unknown as ListTasksRequest;
        try {
          const plan = checkListRequest(request);
          expect(Number.isInteger(plan.limit) && plan.limit >= 1).toBe(true);
          expect(plan.budget).toBeGreaterThanOrEqual(plan.limit);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOptionError);
          expect((error as Error).message).not.toMatch(/\n/);
        }
      }),
    );
    expect(checkListRequest(undefined)).toMatchObject({ after: null, limit: 100, statuses: null });
  });
});

describe("compareTaskIds", () => {
  it("orders ids by their UTF-8 bytes, as Redis orders members of equal score", () => {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        const bytes = Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
        expect(Math.sign(compareTaskIds(a, b))).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});

const item = task({ name: "task-listing.item" }, (n: number) => n);
const record = (id: string, at: number): TaskData => ({
  ...item(0).toJSON(),
  id,
  status: "pending",
  createdAt: new Date(at).toISOString(),
});

describe("the memory backend's creation index", () => {
  const op = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant("put" as const),
        id: fc.integer({ min: 0, max: 30 }),
        at: fc.integer({ min: 0, max: 8 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("remove" as const), id: fc.nat(30) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("page" as const),
        limit: fc.integer({ min: 1, max: 4 }),
      }),
    },
  );

  it("walks live records newest first, each present throughout exactly once, whatever changes between pages", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const state = new MemoryQueueState();
        const live = new Map<string, number>();
        // The walk under way: what it returned, its cursor, and who was there (unchanged) since it began.
        let seen: ListPosition[] = [];
        let cursor: string | null = null;
        let throughout = new Map<string, number>();
        const restart = () => {
          seen = [];
          cursor = null;
          throughout = new Map(live);
        };
        restart();
        for (const step of ops) {
          if (step.op === "put") {
            const id = `t${step.id}`;
            state.put(record(id, 1000 * step.at));
            live.set(id, 1000 * step.at);
            throughout.delete(id);
          } else if (step.op === "remove") {
            const id = `t${step.id}`;
            state.remove(id);
            live.delete(id);
            throughout.delete(id);
          } else {
            const page = listPage(state, { cursor, limit: step.limit }, 0);
            expect(page.tasks.length).toBeLessThanOrEqual(step.limit);
            for (const t of page.tasks) {
              const p = { at: live.get(t.id)!, id: t.id };
              expect(live.has(t.id)).toBe(true);
              const previous = seen.at(-1);
              if (previous) expect(comparePositions(p, previous)).toBeLessThan(0);
              seen.push(p);
            }
            cursor = page.cursor;
            if (cursor === null) {
              // A record moved to an older time during the walk may come twice; no other may.
              const returned = seen.map((p) => p.id);
              for (const id of throughout.keys()) {
                expect(returned.filter((r) => r === id)).toHaveLength(1);
              }
              restart();
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("compacts entries left by removed records, and walks the same after", () => {
    const state = new MemoryQueueState();
    for (let i = 0; i < 3000; i++) state.put(record(`t${i}`, i));
    for (let i = 0; i < 3000; i += 3) state.put(record(`t${i}`, 10_000 + i));
    for (let i = 1; i < 3000; i += 3) state.remove(`t${i}`);
    expect(state.created.length).toBe(4000);
    for (let i = 0; i < 1500; i++) state.remove(`t${3 * i + 2}`);
    state.put(record("last", 20_000));
    expect(state.created.length).toBe(1001);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page = listPage(state, { cursor, limit: 333 }, 0);
      walked.push(...page.tasks.map((t) => t.id));
      cursor = page.cursor;
    } while (cursor !== null);
    const expected = ["last", ...Array.from({ length: 1000 }, (_, i) => `t${3 * (999 - i)}`)];
    expect(walked).toEqual(expected);
  });
});
