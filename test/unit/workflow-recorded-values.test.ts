/**
 * What a workflow records and hands back to its body: a `sideEffect` value
 * comes back exactly as recorded (what JSON would change is refused instead),
 * and the body receives its stored arguments read through its args schema,
 * as a task's function does — the same on the first run and on every replay.
 * Also the definition messages of `workflow()`.
 */
import fc from "fast-check";
import {
  type JsonValue,
  now,
  SerializationError,
  sideEffect,
  step,
  task,
  WorkflowDefinitionError,
  workflow,
} from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonWithDate } from "../support/json-with-date.js";

const echo = task({ name: "wf-values.echo" }, (n: number) => n);

/** What the body saw at the side effect, on each run (the first, then the replays). */
let seen: unknown[] = [];
let compute: () => unknown = () => null;
let computed = 0;
const recordsEffect = workflow({ name: "wf-values.effect" }, function* () {
  let got: JsonValue;
  try {
    got = {
      value: yield* sideEffect(() => {
        computed++;
        return compute() as JsonValue;
      }),
    };
  } catch (error) {
    got = { refused: (error as Error).message, type: (error as Error).name };
  }
  seen.push(got);
  // Waiting for a step ends this run: the body runs again, from the recorded effect.
  yield* step(echo(1));
  return got;
});

async function runEffect(value: () => unknown): Promise<JsonValue> {
  seen = [];
  computed = 0;
  compute = value;
  const done = await new TestQueue().processWorkflow(recordsEffect());
  expect(done.status).toBe("completed");
  expect(computed).toBe(1);
  expect(seen).toHaveLength(2);
  // The replay sees what the first run saw.
  expect(seen[1]).toEqual(seen[0]);
  return done.result as JsonValue;
}

describe("sideEffect values", () => {
  it("any JSON value comes back as it was returned, on the first run and on replay", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
        const result = await runEffect(() => value);
        expect(result).toEqual({ value: JSON.parse(JSON.stringify(value)) });
      }),
      { numRuns: 60 },
    );
  });

  it("a Date anywhere in the value is refused, naming where, the same on every run", async () => {
    await fc.assert(
      fc.asyncProperty(jsonWithDate, async ({ value, path }) => {
        const result = await runEffect(() => value);
        expect(result).toEqual({
          refused: `workflow 'wf-values.effect': sideEffect value${path} is a Date, which JSON hands back as ISO text (give date.toISOString() or date.getTime())`,
          type: "SerializationError",
        });
      }),
      { numRuns: 60 },
    );
  });

  it("undefined is refused rather than handed back as null", async () => {
    expect(await runEffect(() => undefined)).toEqual({
      refused:
        "workflow 'wf-values.effect': sideEffect value is undefined, which JSON cannot store (use null)",
      type: "SerializationError",
    });
  });

  it("what JSON cannot store inside the value is refused the same way as before", async () => {
    expect(await runEffect(() => [1, undefined])).toMatchObject({
      refused:
        "workflow 'wf-values.effect': sideEffect value[1] is undefined, which JSON cannot store (use null)",
    });
    expect(await runEffect(() => ({ failure: new Error("x") }))).toMatchObject({
      refused:
        "workflow 'wf-values.effect': sideEffect value.failure is an Error, which JSON cannot store",
    });
  });

  it("a value whose reading throws is refused at its path", async () => {
    const result = await runEffect(() => ({
      get total(): number {
        throw new Error("lazy total failed");
      },
    }));
    expect(result).toMatchObject({
      refused:
        "workflow 'wf-values.effect': sideEffect value.total could not be read: it threw Error: lazy total failed",
    });
  });

  it("now() still hands back a Date", async () => {
    const times: unknown[] = [];
    const clocked = workflow({ name: "wf-values.now" }, function* () {
      const at = yield* now();
      times.push(at);
      yield* step(echo(2));
      return at.getTime();
    });
    const done = await new TestQueue().processWorkflow(clocked());
    expect(times).toHaveLength(2);
    for (const at of times) expect(at).toBeInstanceOf(Date);
    expect(done.result).toBe((times[0] as Date).getTime());
  });
});

describe("workflow arguments", () => {
  const receivedDates: unknown[] = [];
  // A Date parameter is refused at compile time for this reason; the test shows what happens without one.
  // @ts-expect-error the body is given ISO text, not a Date
  const plainDate = workflow({ name: "wf-values.plain-date" }, function* (at: Date) {
    receivedDates.push(at);
    yield* step(echo(3));
    return null;
  });
  const received: unknown[] = [];
  const coerced = workflow(
    { name: "wf-values.coerced", args: z.tuple([z.coerce.date(), z.number()]) },
    function* (at, n) {
      received.push(at);
      yield* step(echo(n));
      return at.getTime();
    },
  );

  it("a Date argument is stored as ISO text, and without a schema the body gets that text on every run", async () => {
    const at = new Date("2030-04-05T06:07:08.009Z");
    const wf = plainDate(at);
    expect(wf.args).toEqual(["2030-04-05T06:07:08.009Z"]);
    await new TestQueue().processWorkflow(wf);
    expect(receivedDates).toEqual(["2030-04-05T06:07:08.009Z", "2030-04-05T06:07:08.009Z"]);
  });

  it("with an args schema the body gets the schema's output on every run, as a task's function does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4_102_444_800_000) }),
        async (at) => {
          received.length = 0;
          const done = await new TestQueue().processWorkflow(coerced(at, 4));
          expect(done.status).toBe("completed");
          expect(done.result).toBe(at.getTime());
          expect(received).toHaveLength(2);
          for (const value of received) expect(value).toEqual(at);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("an argument whose reading throws is refused at creation, naming the workflow and the position", () => {
    const problem = new Error("getter boom");
    let error: unknown;
    try {
      plainDate({
        get when() {
          throw problem;
        },
      } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as Error).message).toBe(
      "workflow 'wf-values.plain-date': args[0].when could not be read: it threw Error: getter boom",
    );
    expect((error as Error).cause).toBe(problem);
  });
});

describe("workflow() definition messages", () => {
  const body = function* () {
    return yield* step(echo(0));
  };

  it.each([
    ["a number", 5, "workflow(): name must be a string (got 5)"],
    ["an empty string", "", 'workflow(): name must not be empty (got "")'],
    ["only whitespace", "  ", 'workflow(): name must not be only whitespace (got "  ")'],
  ])("a name option that is %s says what is wrong with it", (_what, name, message) => {
    expect(() => workflow({ name: name as never }, body)).toThrow(
      new WorkflowDefinitionError(message),
    );
  });

  it("an anonymous body without a name option asks for one", () => {
    expect(() => workflow(function* () {})).toThrow(
      "workflow() was given an anonymous function: pass { name: '…' } in the options",
    );
  });

  it("a plain function is told why it must be a generator, without talk of async", () => {
    let message = "";
    try {
      workflow({ name: "wf-values.plain" }, (() => 1) as never);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      "workflow 'wf-values.plain': the body must be a generator function (function* …), not a plain function; a body hands each step to the queue with yield* (yield* step(task)), which only a generator can do",
    );
  });

  it("an async function is told it cannot be async", () => {
    expect(() => workflow({ name: "wf-values.async" }, (async () => 1) as never)).toThrow(
      "not an async function; it is replayed on every resume, so it cannot be async",
    );
  });
});
