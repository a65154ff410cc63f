/**
 * `TestQueue` options are checked at construction, one line naming the
 * option, as a Worker's are; and a `waitFor` that times out on tasks nothing
 * ran says to run them, not to start a worker a TestQueue never has.
 */
import {
  InvalidOptionError,
  overrideDependency,
  step,
  task,
  use,
  WaitTimeoutError,
  workflow,
} from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";

const realDb = () => "real";
const save = task({ name: "test-queue-options.save" }, async () => use(realDb));
const echo = task({ name: "test-queue-options.echo" }, (n: number) => n);
const echoTwice = workflow({ name: "test-queue-options.echo-twice" }, function* (n: number) {
  const first = yield* step(echo(n));
  const second = yield* step(echo(first.result ?? 0));
  return second.result;
});

describe("new TestQueue() options", () => {
  test("each bad option is refused at construction with one line naming it", () => {
    const clock = new TestClock(Date.parse("2030-01-01T00:00:00Z"));
    const cases: [unknown, string][] = [
      [
        { clok: clock },
        "new TestQueue(): unknown option 'clok'; did you mean 'clock'? (valid options: name, dependencyOverrides, middleware, clock, maxPayloadBytes)",
      ],
      [null, "new TestQueue(): options must be an object (got null)"],
      [
        { dependencyOverrides: [[realDb, () => "fake"]] },
        "TestQueue option dependencyOverrides must be a Map from dependency functions to their replacements (got a list: wrap it in new Map(…))",
      ],
      [
        // A Map it is: the message names the entry whose replacement is not a function.
        { dependencyOverrides: new Map<unknown, unknown>([[realDb, 5]]) },
        "TestQueue option dependencyOverrides: entry 1 (realDb) has a value that is not a function (got 5); each key is a dependency function and its value the function that replaces it",
      ],
      [
        { dependencyOverrides: {} },
        "TestQueue option dependencyOverrides must be a Map from dependency functions to their replacements (got [object Object])",
      ],
      [
        { middleware: async (_ctx: unknown, next: () => Promise<void>) => next() },
        "TestQueue option middleware must be a list of functions (got a function: pass a list, [middleware])",
      ],
      [
        { middleware: [1] },
        "TestQueue option middleware must be a list of functions (item 0 is 1)",
      ],
      [
        { clock: {} },
        "TestQueue option clock must be an object with the methods now, setTimer, sleep (got [object Object], without now, setTimer, sleep)",
      ],
    ];
    for (const [options, message] of cases) {
      const attempt = () => new TestQueue(options as never);
      expect(attempt, message).toThrow(InvalidOptionError);
      expect(attempt, message).toThrow(message);
    }
  });

  test("good options still work: a Map of overrides, a list of middleware, a clock", async () => {
    const seen: string[] = [];
    const clock = new TestClock(Date.parse("2030-01-01T00:00:00Z"));
    const queue = new TestQueue({
      clock,
      dependencyOverrides: new Map([[realDb, () => "fake"]]),
      middleware: [
        async (ctx, next) => {
          seen.push(ctx.task.name);
          await next();
        },
      ],
    });
    await queue.add(save());
    const [done] = await queue.processAll();
    expect([done?.status, done?.result]).toEqual(["completed", "fake"]);
    expect(seen).toEqual(["test-queue-options.save"]);
    expect(done?.finishedAt?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
  });
});

describe("TestQueue.waitFor", () => {
  test("a timeout on tasks nothing ran says to run them with processAll() or processNext()", async () => {
    const queue = new TestQueue();
    const t = echo(1);
    await queue.add(t);
    const error = await queue.waitFor(t, { timeout: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const message = (error as WaitTimeoutError).message;
    expect(message).toContain(
      "nothing has run them — a TestQueue has no worker: run them with processAll() or processNext() (processScheduled() for scheduled ones) before waiting",
    );
    expect(message).not.toContain("sheppy work");
    expect((error as WaitTimeoutError).unfinished).toEqual([t.id]);
  });

  test("waitForWorkflow's timeout on a workflow none of whose steps ran says how to run it", async () => {
    const queue = new TestQueue();
    const wf = await queue.addWorkflow(echoTwice(3));
    const error = await queue.waitForWorkflow(wf, { timeout: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const message = (error as WaitTimeoutError).message;
    expect(message).toMatch(/^Did not complete within 0 seconds \(1 workflow\(s\) unfinished: /);
    expect(message).toContain(
      "none of their steps has run — a TestQueue has no worker: run them with processAll() before waiting, or add and run a workflow in one call with processWorkflow()",
    );
    expect(message).not.toContain("sheppy work");
    // Once a step has run, the hint no longer applies: the workflow is under way.
    await queue.processNext();
    const later = await queue.waitForWorkflow(wf, { timeout: 0 }).catch((e: unknown) => e);
    expect((later as WaitTimeoutError).message).not.toContain("TestQueue has no worker");
    await queue.processAll();
    expect((await queue.waitForWorkflow(wf, { timeout: 0 })).result).toBe(3);
  });

  test("keeps Queue.waitFor's types and results, for one task and for a list", async () => {
    const queue = new TestQueue();
    const [a, b] = [echo(1), echo(2)];
    await queue.add([a, b]);
    await queue.processAll();
    const one: number | null = (await queue.waitFor(a)).result;
    const both = await queue.waitFor([a, b.id], { timeout: 1 });
    expect([one, both.map((t) => t.result)]).toEqual([1, [1, 2]]);
  });

  test("overrideDependency refuses what is not a function, naming which", () => {
    expect(() => overrideDependency(realDb, 5 as never)).toThrow(
      "overrideDependency(): the replacement must be a function (got 5)",
    );
    expect(() => overrideDependency("db" as never, realDb)).toThrow(
      'overrideDependency(): the dependency must be a function (got "db")',
    );
    expect(overrideDependency(realDb, () => "fake")[0]).toBe(realDb);
  });
});
