/**
 * Type-level contract of workflows: step results, `all` tuples, nested results
 * and the workflow's result are inferred; a body yields only through the helpers.
 */
import {
  all,
  type FinishedTaskStatus,
  type FinishedWorkflowStatus,
  type Queue,
  run,
  sideEffect,
  sleep,
  sleepUntil,
  step,
  type Task,
  type TaskData,
  task,
  type Workflow,
  type WorkflowOptions,
  workflow,
} from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";

const fetchProfile = task({ name: "wt.fetch-profile" }, async (id: string) => ({
  id,
  email: `${id}@example.com`,
}));
const count = task({ name: "wt.count" }, (n: number) => n);
const setupBilling = workflow({ name: "wt.billing" }, function* (id: string) {
  const t = yield* step(count(id.length));
  return { plan: "pro" as const, seats: t.result ?? 0 };
});
declare const queue: Queue;

describe("workflow types", () => {
  test("steps hand back typed finished tasks; all() a typed tuple; run() the nested result", async () => {
    const onboard = workflow({ name: "wt.onboard" }, function* (userId: string) {
      const profile = yield* step(fetchProfile(userId));
      expectTypeOf(profile).toEqualTypeOf<
        Task<{ id: string; email: string }, FinishedTaskStatus>
      >();
      if (profile.status === "completed")
        expectTypeOf(profile.result.email).toEqualTypeOf<string>();
      const [a, b] = yield* all([count(1), fetchProfile("x")]);
      expectTypeOf(a).toEqualTypeOf<Task<number, FinishedTaskStatus>>();
      expectTypeOf(b).toEqualTypeOf<Task<{ id: string; email: string }, FinishedTaskStatus>>();
      const billing = yield* run(setupBilling(userId));
      expectTypeOf(billing).toEqualTypeOf<{ plan: "pro"; seats: number }>();
      const token = yield* sideEffect(() => Math.random().toString(36));
      expectTypeOf(token).toEqualTypeOf<string>();
      expectTypeOf(yield* sleep(60)).toEqualTypeOf<void>();
      expectTypeOf(yield* sleepUntil(new Date())).toEqualTypeOf<void>();
      yield* sleepUntil("2030-01-01T09:00:00Z");
      // @ts-expect-error a delay is a number of seconds, not text ("1h")
      yield* sleep("1h");
      // @ts-expect-error sleepUntil takes a time: for a delay, use sleep(seconds)
      yield* sleepUntil(3600);
      return { email: profile.result?.email, billing };
    });
    const wf = onboard("u1");
    expectTypeOf(wf).toEqualTypeOf<
      Workflow<{ email: string | undefined; billing: { plan: "pro"; seats: number } }>
    >();
    expectTypeOf(queue.waitForWorkflow(wf)).toEqualTypeOf<
      Promise<
        Workflow<
          { email: string | undefined; billing: { plan: "pro"; seats: number } },
          FinishedWorkflowStatus
        >
      >
    >();
    // @ts-expect-error the arguments are typed
    void onboard(1);
    const other = setupBilling("x");
    expectTypeOf(queue.waitForWorkflow([wf, other] as const)).toEqualTypeOf<
      Promise<
        [
          Workflow<
            { email: string | undefined; billing: { plan: "pro"; seats: number } },
            FinishedWorkflowStatus
          >,
          Workflow<{ plan: "pro"; seats: number }, FinishedWorkflowStatus>,
        ]
      >
    >();
    expectTypeOf(queue.getWorkflow([other])).toEqualTypeOf<
      Promise<[Workflow<{ plan: "pro"; seats: number }> | null]>
    >();
    const either = Math.random() > 0.5 ? wf : other;
    expectTypeOf(queue.waitForWorkflow(either)).toEqualTypeOf<
      Promise<
        | Workflow<
            { email: string | undefined; billing: { plan: "pro"; seats: number } },
            FinishedWorkflowStatus
          >
        | Workflow<{ plan: "pro"; seats: number }, FinishedWorkflowStatus>
      >
    >();
    expectTypeOf(queue.getWorkflow(other)).toEqualTypeOf<
      Promise<Workflow<{ plan: "pro"; seats: number }> | null>
    >();
    expectTypeOf(queue.cancelWorkflow(other)).toEqualTypeOf<
      Promise<Workflow<{ plan: "pro"; seats: number }, "cancelled">>
    >();
    expectTypeOf(queue.cancelWorkflow("wf-id")).toEqualTypeOf<
      Promise<Workflow<unknown, "cancelled">>
    >();
    expectTypeOf(queue.waitForWorkflow("wf-id")).toEqualTypeOf<
      Promise<Workflow<unknown, FinishedWorkflowStatus>>
    >();
    const many = [other, other];
    expectTypeOf(queue.waitForWorkflow(many)).toEqualTypeOf<
      Promise<Workflow<{ plan: "pro"; seats: number }, FinishedWorkflowStatus>[]>
    >();
    // A finished workflow is never running: after ruling out two statuses, the third is known.
    const waited = await queue.waitForWorkflow(other);
    if (waited.status !== "completed" && waited.status !== "failed")
      expectTypeOf(waited.status).toEqualTypeOf<"cancelled">();
    else if (waited.status === "failed") expectTypeOf(waited.error).not.toBeNull();
  });

  test("a result schema types the result as its output; TestQueue.processWorkflow keeps it", () => {
    const dated = workflow(
      { name: "wt.dated", result: z.object({ at: z.coerce.date() }) },
      function* () {
        yield* step(count(1));
        return { at: "2030-01-01T00:00:00Z" };
      },
    );
    expectTypeOf(new TestQueue().processWorkflow(dated())).toEqualTypeOf<
      Promise<Workflow<{ at: Date }>>
    >();
  });

  test("a side effect's value must be JSON: a Date, a Map or undefined does not compile", () => {
    workflow({ name: "wt.effects" }, function* () {
      // @ts-expect-error a Date is stored as text: return its ISO string, or use now()
      yield* sideEffect(() => new Date());
      // @ts-expect-error a Map is not JSON
      yield* sideEffect(() => new Map<string, number>());
      // @ts-expect-error undefined is not JSON: return null
      yield* sideEffect(() => undefined);
      // @ts-expect-error a promise is not a value: the computation must be synchronous
      yield* sideEffect(async () => 1);
      // Widened as a task's result is, not a literal type.
      const n = yield* sideEffect(() => 7);
      expectTypeOf(n).toEqualTypeOf<number>();
      const token = yield* sideEffect(() => "abc");
      expectTypeOf(token).toEqualTypeOf<string>();
      const parsed = yield* sideEffect((): unknown => JSON.parse("1"));
      expectTypeOf(parsed).toEqualTypeOf<unknown>();
    });
  });

  test("a side effect's value typed by an interface (no index signature) is JSON by its members", () => {
    interface Point {
      x: number;
      y: number;
      label?: string;
      tags: readonly string[];
    }
    interface Stamped {
      at: Date;
    }
    workflow({ name: "wt.interface-effects" }, function* () {
      const p = yield* sideEffect((): Point => ({ x: 1, y: 2, tags: [] }));
      expectTypeOf(p).toEqualTypeOf<Point>();
      expectTypeOf(p.x).toEqualTypeOf<number>();
      // @ts-expect-error a Date inside an interface is still not JSON
      yield* sideEffect((): Stamped => ({ at: new Date() }));
    });
  });

  test("a body that yields anything but the helpers' instructions is not a workflow", () => {
    // @ts-expect-error yielding a plain value
    workflow({ name: "wt.bad" }, function* () {
      yield 42;
    });
    // @ts-expect-error an async function is not a generator
    workflow({ name: "wt.async" }, async () => 1);
  });
});

describe("options shared between workflows", () => {
  test("a variable of type WorkflowOptions passes, alone or spread", () => {
    const kept: WorkflowOptions = { ttl: 3600 };
    const alone = workflow(kept, function* (n: number) {
      const done = yield* step(count(n));
      return (done.result ?? 0) + 1;
    });
    expectTypeOf(new TestQueue().processWorkflow(alone(1))).toEqualTypeOf<
      Promise<Workflow<number>>
    >();
    workflow({ ...kept, name: "wt.shared" }, function* (n: number) {
      yield* step(count(n));
    });
  });
});

const stamped = workflow({ name: "wt.stamped" }, function* () {
  yield* step(count(1));
  return { at: new Date(0), n: 1 };
});

describe("a workflow's result as it reads back", () => {
  test("without a result schema, a Date in it is typed as ISO text", () => {
    expectTypeOf(new TestQueue().processWorkflow(stamped())).toEqualTypeOf<
      Promise<Workflow<{ at: string; n: number }>>
    >();
  });

  test("a finished step in it reads back as the step's record (its JSON), not as a task", async () => {
    const kept = workflow({ name: "wt.kept-steps" }, function* () {
      const steps = yield* all([count(1), count(2)]);
      return { steps, first: steps[0] };
    });
    const done = await new TestQueue().processWorkflow(kept());
    if (done.status === "completed") {
      const { first, steps } = done.result;
      expectTypeOf(first).toMatchTypeOf<TaskData>();
      expectTypeOf(first).not.toMatchTypeOf<Task<unknown>>();
      expectTypeOf(first.createdAt).toEqualTypeOf<string>();
      expectTypeOf(steps).toMatchTypeOf<readonly [TaskData, TaskData]>();
    }
    const bare = workflow({ name: "wt.bare-step" }, function* () {
      return yield* step(count(2));
    });
    const stored = await new TestQueue().processWorkflow(bare());
    if (stored.status === "completed") {
      expectTypeOf(stored.result).toMatchTypeOf<TaskData>();
      expectTypeOf(stored.result).not.toMatchTypeOf<Task<unknown>>();
    }
  });

  test("a body returning nothing, or maybe undefined, has a null result", () => {
    const nothing = workflow({ name: "wt.nothing-result" }, function* () {
      yield* step(count(1));
    });
    expectTypeOf(nothing()).toEqualTypeOf<Workflow<null>>();
    const maybe = workflow({ name: "wt.maybe-result" }, function* (n: number) {
      const t = yield* step(count(n));
      return t.result === null ? undefined : t.result;
    });
    expectTypeOf(maybe(1)).toEqualTypeOf<Workflow<number | null>>();
  });

  test("a union of workflows goes wherever one does, addWorkflow too", async () => {
    const w = Math.random() > 0.5 ? setupBilling("a") : stamped();
    expectTypeOf(await queue.addWorkflow(w)).toEqualTypeOf<
      Workflow<{ plan: "pro"; seats: number }> | Workflow<{ at: string; n: number }>
    >();
    expectTypeOf(await queue.waitForWorkflow(w)).toEqualTypeOf<
      | Workflow<{ plan: "pro"; seats: number }, FinishedWorkflowStatus>
      | Workflow<{ at: string; n: number }, FinishedWorkflowStatus>
    >();
  });

  test("addWorkflow takes an id of the caller's, and nothing else", async () => {
    expectTypeOf(await queue.addWorkflow(setupBilling("a"), { id: "order-1" })).toEqualTypeOf<
      Workflow<{ plan: "pro"; seats: number }>
    >();
    const maybeId: string | undefined = undefined;
    await queue.addWorkflow(setupBilling("a"), { id: maybeId });
    // @ts-expect-error a misspelt option is a compile error
    await queue.addWorkflow(setupBilling("a"), { idd: "order-1" });
    // @ts-expect-error an id is text
    await queue.addWorkflow(setupBilling("a"), { id: 1 });
  });
});

describe("a workflow's arguments and result JSON cannot store are compile errors", () => {
  test("refused", () => {
    // @ts-expect-error a Date parameter would be given ISO text, not a Date
    workflow({ name: "wt.json.date" }, function* (at: Date) {
      yield* step(count(at.getTime()));
    });
    // @ts-expect-error a bigint parameter cannot be stored
    workflow(function* wtJsonBigint(n: bigint) {
      yield* step(count(Number(n)));
    });
    // @ts-expect-error a Map result cannot be stored
    workflow({ name: "wt.json.map" }, function* () {
      yield* step(count(1));
      return new Map<string, number>();
    });
  });

  test("accepted: JSON, unknown, nothing, a Date or a finished step in the result", () => {
    workflow({ name: "wt.json.ok" }, function* (id: string, opts?: { n?: number }) {
      const t = yield* step(count(opts?.n ?? id.length));
      return { t, at: new Date(), n: t.result };
    });
    workflow({ name: "wt.json.unknown" }, function* (payload: unknown) {
      yield* step(count(1));
      return payload;
    });
    workflow({ name: "wt.json.nothing" }, function* () {
      yield* step(count(1));
    });
  });
});

describe("a workflow read back by id is narrowed by its factory's is()", () => {
  test("is() narrows the unknown result to the factory's, and its arguments as stored", async () => {
    const found = await queue.getWorkflow("some-id");
    if (setupBilling.is(found)) {
      expectTypeOf(found.args[0]).toEqualTypeOf<string>();
      if (found.status === "completed") {
        expectTypeOf(found.result).toEqualTypeOf<{ plan: "pro"; seats: number }>();
      }
    }
    const scaled = workflow(
      { name: "wt.scaled", args: z.tuple([z.coerce.number()]) },
      function* (n) {
        const counted = yield* step(count(n));
        return counted.result;
      },
    );
    if (scaled.is(found)) expectTypeOf(found.args[0]).toEqualTypeOf<number>();
  });
});
