/**
 * How deep arguments and results may nest: up to MAX_JSON_DEPTH levels they
 * are stored and run like any value; one level more (or ten thousand) is a
 * one-line SerializationError where the value is given — at creation for
 * arguments, as the task's failure for a result — never a stack overflow.
 */
import { Queue, SerializationError, task } from "sheppy";
import { afterEach, describe, expect, test } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/json.js";

/** `depth` objects nested in one another, `{ a: { a: … { a: 1 } } }`. */
function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

/** How many objects `value` nests, following `a`. */
function depthOf(value: unknown): number {
  let depth = 0;
  for (let v = value; typeof v === "object" && v !== null; v = (v as { a: unknown }).a) depth++;
  return depth;
}

/** Throws what `fn` throws, or fails the test if it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw");
}

const queues: Queue[] = [];
function memoryQueue(): Queue {
  const queue = new Queue("memory://", { name: "deep-values" });
  queues.push(queue);
  return queue;
}
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

const echo = task({ name: "deep-echo" }, (value: unknown) => value);
const deepen = task({ name: "deep-result" }, (depth: number) => nested(depth));

describe("arguments", () => {
  test.each([MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])(
    "an argument nesting %i levels is stored, run and returned intact",
    async (depth) => {
      const queue = memoryQueue();
      const t = echo(nested(depth));
      expect(depthOf(t.args[0])).toBe(depth);
      await queue.add(t);
      const done = await queue.waitFor(t, { timeout: 5 });
      expect(done.status).toBe("completed");
      expect(depthOf(done.result)).toBe(depth);
      expect(done.result).toEqual(nested(depth));
    },
  );

  test.each([MAX_JSON_DEPTH + 1, 10_000, 100_000])(
    "an argument nesting %i levels is a one-line SerializationError at creation",
    (depth) => {
      const error = thrown(() => echo(nested(depth)));
      expect(error).toBeInstanceOf(SerializationError);
      expect(error.message).toMatch(
        new RegExp(
          `^task 'deep-echo': args\\[0\\](\\.a)+…? nests deeper than ${MAX_JSON_DEPTH} levels, which Sheppy does not store$`,
        ),
      );
      expect(error.message).not.toContain("\n");
      expect(error.message.length).toBeLessThan(200);
    },
  );

  test("the limit counts each argument on its own, not the argument list", () => {
    const t = echo(nested(MAX_JSON_DEPTH));
    expect(depthOf(t.args[0])).toBe(MAX_JSON_DEPTH);
  });

  test("arrays count like objects", () => {
    let list: unknown = [];
    for (let level = 1; level < MAX_JSON_DEPTH; level++) list = [list];
    expect(() => echo(list)).not.toThrow();
    expect(thrown(() => echo([list])).message).toMatch(
      /^task 'deep-echo': args\[0\](\[0\])+…? nests deeper than \d+ levels/,
    );
  });
});

describe("results", () => {
  test("a result nesting the limit completes", async () => {
    const queue = memoryQueue();
    const t = deepen(MAX_JSON_DEPTH);
    await queue.add(t);
    const done = await queue.waitFor(t, { timeout: 5 });
    expect(done.status).toBe("completed");
    expect(depthOf(done.result)).toBe(MAX_JSON_DEPTH);
  });

  test.each([MAX_JSON_DEPTH + 1, 10_000])(
    "a result nesting %i levels fails the task with a SerializationError",
    async (depth) => {
      const queue = memoryQueue();
      const t = deepen(depth);
      await queue.add(t);
      const done = await queue.waitFor(t, { timeout: 5 });
      expect(done.status).toBe("failed");
      expect(done.error?.type).toBe("SerializationError");
      expect(done.error?.message).toMatch(
        new RegExp(
          `^task 'deep-result' returned a value JSON cannot store: result(\\.a)+…? nests deeper than ${MAX_JSON_DEPTH} levels, which Sheppy does not store; not retried: the function ran to its end, and another attempt would repeat what it did$`,
        ),
      );
      expect(done.error?.toError()).toBeInstanceOf(SerializationError);
    },
  );
});
