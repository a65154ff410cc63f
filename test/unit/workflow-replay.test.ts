/** The replay engine on its own: resumes fed recorded outcomes, as a backend would hold them. */
import { describe, expect, it } from "vitest";
import { isoAt } from "../../src/clock.js";
import {
  argsHash,
  type ReplayOutcome,
  replayWorkflow,
  stepTaskId,
} from "../../src/execution/workflow-replay.js";
import {
  InvalidYieldError,
  NonDeterministicWorkflowError,
  type Task,
  task,
  WorkflowDefinitionError,
} from "../../src/index.js";
import { workflow } from "../../src/task/define-workflow.js";
import type { TaskData } from "../../src/task/task-record.js";
import type { WorkflowData } from "../../src/task/workflow-record.js";
import { findWorkflow } from "../../src/task/workflow-registry.js";
import { all, now, run, sideEffect, sleep, step } from "../../src/task/workflow-steps.js";

const add = task({ name: "wf-replay.add" }, (a: number, b: number) => a + b);
const fail = task({ name: "wf-replay.fail" }, (): number => {
  throw new Error("no");
});

/** How many sequential steps `staged` asks for: fewer on a later replay is a shorter body deployed. */
const stages = { count: 2 };
const staged = workflow({ name: "wf-replay.staged" }, function* () {
  for (let i = 0; i < stages.count; i++) yield* step(add(i, 0));
  return "done";
});

const sequential = workflow({ name: "wf-replay.sequential" }, function* (x: number) {
  const first = yield* step(add(x, 1));
  const second = yield* step(add(first.result!, 10));
  return second.result;
});
const fanOut = workflow({ name: "wf-replay.fan-out" }, function* (n: number) {
  const done = yield* all(Array.from({ length: n }, (_, i) => add(i, 1)));
  return done.reduce((sum, t) => sum + (t.result ?? 0), 0);
});
const inner = workflow({ name: "wf-replay.inner" }, function* (x: number) {
  const t = yield* step(add(x, 1));
  return t.result! * 10;
});
const outer = workflow({ name: "wf-replay.outer" }, function* (x: number) {
  const nested = yield* run(inner(x));
  const t = yield* step(add(nested, 100));
  return t.result;
});
const recovering = workflow({ name: "wf-replay.recovering" }, function* () {
  const attempt = yield* step(fail());
  if (attempt.status === "failed") {
    const undo = yield* step(add(0, 0));
    return `recovered (${attempt.error?.message}, undo ${undo.status})`;
  }
  return "no failure";
});
const exploding = workflow({ name: "wf-replay.exploding" }, function* () {
  const t = yield* step(add(5, 5));
  throw new RangeError(`user code exploded after ${t.result}`);
});
let draws = 0;
const effects = workflow({ name: "wf-replay.effects" }, function* () {
  const drawn = yield* sideEffect(() => ++draws);
  const at = yield* now();
  yield* step(add(drawn, 0));
  return { drawn, at: at.toISOString() };
});
// Yielding anything but a step helper's instruction does not compile; forced here to test the runtime check.
const badYield = workflow({ name: "wf-replay.bad-yield" }, function* () {
  yield 42 as never;
  return 1;
});
const mutating = workflow({ name: "wf-replay.mutating" }, function* () {
  const t = yield* step(add(1, 1));
  let refused = false;
  try {
    (t as unknown as { result: unknown }).result = "changed";
  } catch {
    refused = true;
  }
  yield* step(add(2, 2));
  return [t.result, refused];
});

/** Plays a workflow through: each resume's new steps complete as `finish` says. */
function drive(
  data: WorkflowData,
  finish: (step: TaskData) => Partial<TaskData>,
  clock = () => Date.parse("2026-01-01T00:00:00Z"),
): { outcomes: ReplayOutcome[]; stored: Map<string, TaskData> } {
  const definition = findWorkflow(data.name)!;
  const stored = new Map<string, TaskData>();
  const outcomes: ReplayOutcome[] = [];
  let current = data;
  for (let i = 0; i < 50; i++) {
    const outcome = replayWorkflow({ definition, workflow: current, outcomes: stored, now: clock });
    outcomes.push(outcome);
    if (outcome.kind !== "waiting") break;
    for (const t of outcome.newTasks) {
      stored.set(t.id, { ...t, status: "completed", finishedAt: isoAt(clock()), ...finish(t) });
    }
    current = { ...current, steps: outcome.steps, effects: outcome.effects };
  }
  return { outcomes, stored };
}

const sum = (t: TaskData): Partial<TaskData> =>
  t.name === "wf-replay.fail"
    ? { status: "failed", result: null, error: { type: "Error", message: "no" } as never }
    : { result: (t.args as number[]).reduce((a, b) => a + b, 0) };

/** A fan-out of 3 asked for, and the outcomes of its first two steps, completed. */
function fanOutTwoOfThreeDone() {
  const wf = fanOut(3).toJSON();
  const definition = findWorkflow(wf.name)!;
  const at = () => 0;
  const first = replayWorkflow({ definition, workflow: wf, outcomes: new Map(), now: at });
  if (first.kind !== "waiting") throw new Error("expected waiting");
  const done = new Map(
    first.newTasks
      .slice(0, 2)
      .map((t) => [t.id, { ...t, status: "completed", result: 1 } as TaskData]),
  );
  return { wf, definition, at, first, done };
}

describe("workflow replay", () => {
  it("sequential steps: each resume asks for the next step, with a derived id; the last returns the result", () => {
    const wf = sequential(2).toJSON();
    const { outcomes } = drive(wf, sum);
    expect(outcomes.map((o) => o.kind)).toEqual(["waiting", "waiting", "completed"]);
    const first = outcomes[0] as Extract<ReplayOutcome, { kind: "waiting" }>;
    expect(first.newTasks).toHaveLength(1);
    expect(first.newTasks[0]).toMatchObject({
      id: stepTaskId(wf, 0),
      name: "wf-replay.add",
      args: [2, 1],
      status: "pending",
      workflowId: wf.id,
    });
    expect(first.pending).toEqual([stepTaskId(wf, 0)]);
    expect(first.steps).toEqual([
      {
        taskId: stepTaskId(wf, 0),
        index: 0,
        yield: 0,
        name: "wf-replay.add",
        argsHash: argsHash([2, 1]),
      },
    ]);
    expect(outcomes[2]).toMatchObject({ kind: "completed", result: 13 });
  });

  it("a fan-out asks for every task at once, waits for all, and hands them back in input order", () => {
    const { outcomes } = drive(fanOut(50).toJSON(), sum);
    expect(outcomes.map((o) => o.kind)).toEqual(["waiting", "completed"]);
    const waiting = outcomes[0] as Extract<ReplayOutcome, { kind: "waiting" }>;
    expect(waiting.newTasks).toHaveLength(50);
    expect(new Set(waiting.steps.map((s) => s.yield))).toEqual(new Set([0]));
    expect(outcomes[1]).toMatchObject({ result: 50 + (49 * 50) / 2 });
  });

  it("a fan-out with some steps unfinished keeps waiting for those, asking for nothing new", () => {
    const { wf, definition, at, first, done } = fanOutTwoOfThreeDone();
    const again = replayWorkflow({
      definition,
      workflow: { ...wf, steps: first.steps, pending: [first.newTasks[2]!.id] },
      outcomes: done,
      now: at,
    });
    expect(again).toMatchObject({
      kind: "waiting",
      newTasks: [],
      pending: [first.newTasks[2]!.id],
    });
  });

  it("a body that ends before asking again for a later yield's steps fails, naming the first step it left out", () => {
    const at = () => 0;
    const wf = staged().toJSON();
    const definition = findWorkflow(wf.name)!;
    const first = replayWorkflow({ definition, workflow: wf, outcomes: new Map(), now: at });
    if (first.kind !== "waiting") throw new Error("expected waiting");
    const ended = (t: TaskData) =>
      [t.id, { ...t, status: "completed", result: 1 } as TaskData] as const;
    const second = replayWorkflow({
      definition,
      workflow: { ...wf, steps: first.steps },
      outcomes: new Map([ended(first.newTasks[0]!)]),
      now: at,
    });
    if (second.kind !== "waiting") throw new Error("expected waiting");
    stages.count = 1;
    try {
      const third = replayWorkflow({
        definition,
        workflow: { ...wf, steps: second.steps },
        outcomes: new Map([ended(first.newTasks[0]!), ended(second.newTasks[0]!)]),
        now: at,
      });
      if (third.kind !== "failed") throw new Error("expected failed");
      expect(third.error).toBeInstanceOf(NonDeterministicWorkflowError);
      expect((third.error as Error).message).toMatch(
        /ended on replay after asking for 1 of the 2 steps it asked for before: step 1 \(task 'wf-replay\.add'\) was not asked for again/,
      );
    } finally {
      stages.count = 2;
    }
  });

  it("a fan-out asked for with more steps than before fails before any step is asked for", () => {
    const wf = fanOut(3).toJSON();
    const definition = findWorkflow(wf.name)!;
    const first = replayWorkflow({ definition, workflow: wf, outcomes: new Map(), now: () => 0 });
    if (first.kind !== "waiting") throw new Error("expected waiting");
    const steps = first.steps.slice(0, 2);
    const larger = replayWorkflow({
      definition,
      workflow: { ...wf, steps, pending: [] },
      outcomes: new Map(),
      now: () => 0,
    });
    if (larger.kind !== "failed") throw new Error("expected failed");
    expect((larger.error as Error).message).toMatch(
      /asked on replay for 3 step\(s\) at yield 0 \(tasks '[^']+', '[^']+', '[^']+'\), where it asked for 2 before \(steps 0 to 1: tasks '[^']+', '[^']+'\); a step added or removed before this yield moves every later one/,
    );
  });

  it("a recorded step neither ended nor waited for (a retried workflow's) is asked for again under its recorded id", () => {
    const { wf, definition, at, first, done } = fanOutTwoOfThreeDone();
    const steps = first.steps.map((step, i) =>
      i === 2 ? { ...step, taskId: "asked-again" } : step,
    );
    const again = replayWorkflow({
      definition,
      workflow: { ...wf, steps, pending: [] },
      outcomes: done,
      now: at,
    });
    if (again.kind !== "waiting") throw new Error("expected waiting");
    expect(again.pending).toEqual(["asked-again"]);
    expect(again.newTasks.map((t) => [t.id, t.name, t.args, t.workflowId])).toEqual([
      ["asked-again", first.newTasks[2]!.name, first.newTasks[2]!.args, wf.id],
    ]);
    // Asked for with other arguments than recorded: the guard refuses before anything is asked for.
    const changed = steps.map((step, i) => (i === 2 ? { ...step, argsHash: "other" } : step));
    const refused = replayWorkflow({
      definition,
      workflow: { ...wf, steps: changed, pending: [] },
      outcomes: done,
      now: at,
    });
    expect(refused.kind).toBe("failed");
    if (refused.kind === "failed")
      expect(refused.error).toBeInstanceOf(NonDeterministicWorkflowError);
  });

  it("an empty fan-out comes back at once", () => {
    const { outcomes } = drive(fanOut(0).toJSON(), sum);
    expect(outcomes).toEqual([{ kind: "completed", steps: [], effects: [], result: 0 }]);
  });

  it("a nested workflow runs inline: its steps are the caller's steps, its result comes back", () => {
    const wf = outer(5).toJSON();
    const { outcomes } = drive(wf, sum);
    expect(outcomes.map((o) => o.kind)).toEqual(["waiting", "waiting", "completed"]);
    expect((outcomes[0] as { steps: unknown[] }).steps).toHaveLength(1);
    expect(outcomes[2]).toMatchObject({ result: 160 });
  });

  it("a failed step comes back to the body, which can handle it", () => {
    const { outcomes } = drive(recovering().toJSON(), sum);
    expect(outcomes.at(-1)).toMatchObject({
      kind: "completed",
      result: "recovered (no, undo completed)",
    });
  });

  it("a throw in the body fails the workflow with that error", () => {
    const { outcomes } = drive(exploding().toJSON(), sum);
    const last = outcomes.at(-1)!;
    expect(last.kind).toBe("failed");
    expect((last as { error: Error }).error).toBeInstanceOf(RangeError);
    expect((last as { error: Error }).error.message).toBe("user code exploded after 10");
  });

  it("the determinism guard: a replay asking for another task or other arguments at a step fails, naming it", () => {
    const wf = sequential(2).toJSON();
    const definition = findWorkflow(wf.name)!;
    const changedName = replayWorkflow({
      definition,
      workflow: {
        ...wf,
        steps: [
          {
            taskId: stepTaskId(wf, 0),
            index: 0,
            yield: 0,
            name: "wf-replay.old",
            argsHash: argsHash([2, 1]),
          },
        ],
      },
      outcomes: new Map(),
      now: () => 0,
    });
    expect(changedName.kind).toBe("failed");
    const error = (changedName as { error: Error }).error;
    expect(error).toBeInstanceOf(NonDeterministicWorkflowError);
    expect(error.message).toBe(
      `workflow 'wf-replay.sequential' (id ${wf.id}) asked for a different step 0 on replay: the task changed from 'wf-replay.old' to 'wf-replay.add'. A workflow body must ask for the same steps in the same order on every run: read clocks, random numbers and other changing data through sideEffect() or now(), and deploy a changed workflow under a new name`,
    );
    const changedArgs = replayWorkflow({
      definition,
      workflow: {
        ...wf,
        steps: [
          {
            taskId: stepTaskId(wf, 0),
            index: 0,
            yield: 0,
            name: "wf-replay.add",
            argsHash: argsHash([9, 1]),
          },
        ],
      },
      outcomes: new Map(),
      now: () => 0,
    });
    expect((changedArgs as { error: Error }).error.message).toContain(
      "step 0 on replay: the arguments of task 'wf-replay.add' changed",
    );
  });

  it("sideEffect and now() record their value on the first run and replay it afterwards", () => {
    draws = 0;
    let clock = Date.parse("2026-05-01T10:00:00Z");
    const { outcomes } = drive(effects().toJSON(), sum, () => (clock += 1000));
    expect(draws).toBe(1);
    expect(outcomes.at(-1)).toMatchObject({
      kind: "completed",
      result: { drawn: 1, at: "2026-05-01T10:00:01.000Z" },
      effects: [{ value: 1 }, { value: Date.parse("2026-05-01T10:00:01Z") }],
    });
  });

  it("each recorded effect names its helper; a replay that asks another helper at its place (a sideEffect() or now() added, removed or moved) fails instead of handing it the other's value", () => {
    const variant = { body: "first" as "first" | "swapped" | "now removed" };
    const drifting = workflow({ name: "wf-replay.drifting-effects" }, function* () {
      let at: Date;
      let token: string;
      if (variant.body === "first") {
        at = yield* now();
        token = yield* sideEffect(() => "token-1");
      } else if (variant.body === "swapped") {
        token = yield* sideEffect(() => "token-2");
        at = yield* now();
      } else {
        at = new Date(0);
        token = yield* sideEffect(() => "token-3");
      }
      yield* step(add(1, 1));
      return `${token} at ${at.getTime()}`;
    });
    const at = () => 1_000;
    const definition = findWorkflow(drifting.workflowName)!;
    variant.body = "first";
    const first = replayWorkflow({
      definition,
      workflow: drifting().toJSON(),
      outcomes: new Map(),
      now: at,
    });
    expect(first).toMatchObject({
      kind: "waiting",
      effects: [
        { value: 1_000, helper: "now" },
        { value: "token-1", helper: "sideEffect" },
      ],
    });
    const stored = { ...drifting().toJSON(), steps: first.steps, effects: first.effects };
    for (const [body, message] of [
      [
        "swapped",
        "asked on replay for side effect 0 (counted from 0) through sideEffect(), where it asked through now() before",
      ],
      [
        "now removed",
        "asked on replay for side effect 0 (counted from 0) through sideEffect(), where it asked through now() before",
      ],
    ] as const) {
      variant.body = body;
      const replayed = replayWorkflow({
        definition,
        workflow: stored,
        outcomes: new Map(),
        now: at,
      });
      expect(replayed.kind).toBe("failed");
      const { error } = replayed as { error: Error };
      expect(error).toBeInstanceOf(NonDeterministicWorkflowError);
      expect(error.message).toContain(message);
    }
    // Recorded before effects named their helper: handed back as they are.
    variant.body = "first";
    const unnamed = {
      ...stored,
      effects: [{ value: 2_000 }, { value: "old-token" }],
    };
    expect(
      replayWorkflow({ definition, workflow: unnamed, outcomes: new Map(), now: at }),
    ).toMatchObject({ kind: "waiting", effects: [{ value: 2_000 }, { value: "old-token" }] });
  });

  it("a side effect that throws is recorded: a body that catches it takes the same branch on every replay", () => {
    let calls = 0;
    const flaky = workflow({ name: "wf-replay.flaky-effect" }, function* () {
      let got: number;
      try {
        got = yield* sideEffect(() => {
          if (++calls === 1) throw new RangeError("lookup failed");
          return 7;
        });
      } catch {
        got = -1;
      }
      const t = yield* step(add(got, 0));
      yield* step(add(0, 0));
      return t.result;
    });
    const { outcomes } = drive(flaky().toJSON(), sum);
    expect(calls).toBe(1);
    expect(outcomes.at(-1)).toMatchObject({ kind: "completed", result: -1 });
    const [recorded] = (outcomes.at(-1) as { effects: { error?: { type: string } }[] }).effects;
    expect(recorded?.error?.type).toBe("RangeError");
  });

  it("misused helpers get a message that says what to write", () => {
    const noStar = workflow({ name: "wf-replay.no-star" }, function* () {
      yield step(add(1, 1)) as never;
      return 1;
    });
    const stepOfWorkflow = workflow({ name: "wf-replay.step-of-workflow" }, function* () {
      yield* step(sequential(1) as never);
      return 1;
    });
    const noStarError = (drive(noStar().toJSON(), sum).outcomes[0] as { error: Error }).error;
    expect(noStarError.message).toContain(
      "it yielded a helper's generator instead of what it yields — write yield* (with the star)",
    );
    const wrongHelper = (drive(stepOfWorkflow().toJSON(), sum).outcomes[0] as { error: Error })
      .error;
    expect(wrongHelper.message).toBe(
      "Invalid yield in workflow 'wf-replay.step-of-workflow': step() takes a Task, got a Workflow (use yield* run(workflow))",
    );
  });

  it("a helper called without yield* fails the workflow, naming it, instead of silently skipping its step", () => {
    const forgotten = workflow({ name: "wf-replay.forgotten-step" }, function* () {
      step(add(1, 1));
      const second = yield* step(add(2, 2));
      return second.result;
    });
    const forgottenLast = workflow({ name: "wf-replay.forgotten-last" }, function* () {
      const first = yield* step(add(1, 1));
      all([add(3, 3)]);
      return first.result;
    });
    const forgottenSleep = workflow({ name: "wf-replay.forgotten-sleep" }, function* () {
      sleep(5);
      const first = yield* step(add(1, 1));
      return first.result;
    });
    for (const [flow, helper] of [
      [forgotten, `step('${add.taskName}')`],
      [forgottenLast, `all(['${add.taskName}'])`],
      [forgottenSleep, "sleep()"],
    ] as const) {
      const { outcomes } = drive(flow().toJSON(), sum);
      const error = (outcomes.at(-1) as { error: Error }).error;
      expect(error).toBeInstanceOf(InvalidYieldError);
      expect(error.message).toBe(
        `Invalid workflow '${flow.workflowName}': it called ${helper} without yield*, so what it asked for never ran; write yield* before each call: yield* ${helper}`,
      );
    }
    // Outside a workflow body a helper call is only a generator: nothing is watched.
    expect(typeof step(add(1, 1)).next).toBe("function");
  });

  it("yield* of a Task (step() forgotten) and all() given tasks one by one fail with InvalidYieldError saying what to write", () => {
    const starredTask = workflow({ name: "wf-replay.starred-task" }, function* () {
      const sum = yield* add(1, 2) as never as Generator<never, number>;
      return sum;
    });
    const spreadAll = workflow({ name: "wf-replay.spread-all" }, function* () {
      yield* (all as (...tasks: unknown[]) => Generator<never, unknown>)(add(1, 1), add(2, 2));
      return 1;
    });
    const starred = (drive(starredTask().toJSON(), sum).outcomes[0] as { error: Error }).error;
    expect(starred).toBeInstanceOf(InvalidYieldError);
    expect(starred.message).toMatch(
      /^Invalid yield in workflow 'wf-replay\.starred-task': yield\* was given something that is not a step helper's \(yield\* .* is not iterable\); a task runs as a step through yield\* step\(task\)/,
    );
    expect(starred.cause).toBeInstanceOf(TypeError);
    const spread = (drive(spreadAll().toJSON(), sum).outcomes[0] as { error: Error }).error;
    expect(spread).toBeInstanceOf(InvalidYieldError);
    expect(spread.message).toBe(
      "Invalid yield in workflow 'wf-replay.spread-all': all() takes one list of Tasks, as in all([a, b]), got a Task",
    );
    // An error of the body's own making that merely mentions iteration is left as it is.
    const ownError = workflow({ name: "wf-replay.own-type-error" }, function* () {
      yield* step(add(1, 1));
      for (const x of undefined as unknown as number[]) return x;
      return 0;
    });
    const own = (drive(ownError().toJSON(), sum).outcomes.at(-1) as { error: Error }).error;
    expect(own).toBeInstanceOf(TypeError);
  });

  it("yielding anything but a step helper's instruction fails the workflow with InvalidYieldError", () => {
    const { outcomes } = drive(badYield().toJSON(), sum);
    const error = (outcomes[0] as { error: Error }).error;
    expect(error).toBeInstanceOf(InvalidYieldError);
    expect(error.message).toMatch(
      /^Invalid yield in workflow 'wf-replay\.bad-yield': it yielded a number;/,
    );
  });

  it("finished steps handed to the body are frozen copies: the body cannot change a stored outcome", () => {
    const { outcomes, stored } = drive(mutating().toJSON(), sum);
    expect(outcomes.at(-1)).toMatchObject({ kind: "completed", result: [2, true] });
    expect([...stored.values()][0]?.result).toBe(2);
  });

  it("a workflow must be a generator function; async ones are refused at definition", () => {
    expect(() => workflow({ name: "wf-replay.async" }, (async () => 1) as never)).toThrow(
      WorkflowDefinitionError,
    );
    expect(() => workflow({ name: "wf-replay.async-gen" }, async function* () {} as never)).toThrow(
      /not an async generator function/,
    );
    expect(() => workflow({ name: "wf-replay.typo", retyr: 1 } as never, function* () {})).toThrow(
      /workflow 'wf-replay.typo'/,
    );
  });

  it("types: step, all and the result are inferred", () => {
    const typed = workflow({ name: "wf-replay.types" }, function* (who: string) {
      const one = yield* step(add(1, 2));
      const pair = yield* all([add(1, 1), fail()] as const);
      const n: number | null = one.result;
      const t: Task<number> = pair[1];
      return { who, n, t: t.id };
    });
    const wf = typed("x");
    const notAWorkflow = () =>
      // @ts-expect-error a body that yields a plain value is not a workflow
      workflow({ name: "wf-replay.never" }, function* () {
        yield 42;
      });
    expect(typeof notAWorkflow).toBe("function");
    const result: { who: string; n: number | null; t: string } | null = wf.result;
    expect(result).toBeNull();
    // @ts-expect-error the arguments are typed
    const wrong = () => typed(1);
    expect(typeof wrong).toBe("function");
  });
});
