/**
 * A workflow's sleep step off the backends: the built-in task's name is
 * reserved, the gate that puts a claimed sleep step off reads any stored
 * record without throwing, and TestQueue runs a sleeping workflow by its
 * clock.
 */
import fc from "fast-check";
import {
  NonDeterministicWorkflowError,
  sleep,
  sleepUntil,
  step,
  TaskDefinitionError,
  task,
  UnknownTaskError,
  workflow,
} from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/json.js";
import { taskSpecByName } from "../../src/task/task-by-name.js";
import type { TaskData } from "../../src/task/task-record.js";
import { findTask } from "../../src/task/task-registry.js";
import {
  SLEEP_META_KEY,
  SLEEP_TASK_NAME,
  sleepingRecord,
  sleepTask,
  sleepWakeAt,
} from "../../src/task/workflow-sleep.js";

const START = Date.parse("2030-01-01T00:00:00Z");
const HOUR = 3_600_000;

const greet = task({ name: "wf-sleep.greet" }, (who: string) => `hello ${who}`);
const reminder = workflow({ name: "wf-sleep.reminder" }, function* (who: string) {
  const first = yield* step(greet(who));
  yield* sleep(24 * 3600);
  const second = yield* step(greet(`${who} again`));
  yield* sleepUntil("2030-01-05T00:00:00Z");
  return [first.result, second.result];
});
let delay = 60;
let shape: "sleep" | "step" = "sleep";
const reshaped = workflow({ name: "wf-sleep.reshaped" }, function* () {
  if (shape === "sleep") yield* sleep(60);
  else yield* step(greet("instead"));
  return "done";
});
const drifting = workflow({ name: "wf-sleep.drifting" }, function* () {
  yield* sleep(delay);
  return "done";
});

/** A sleep step as a worker claims it: a step of workflow `w1`, created at `START`. */
function claimedSleep(args: JsonValue[], meta: Record<string, JsonValue> = {}): TaskData {
  const data = sleepTask(0).toJSON();
  return {
    ...data,
    args,
    status: "processing",
    workflowId: "w1",
    createdAt: new Date(START).toISOString(),
    meta: { "sheppy.workflow": "wf", ...meta },
  };
}

describe("workflow sleep", () => {
  it("its task's name is reserved: no task takes it, and it cannot be added by name", () => {
    expect(() => task({ name: SLEEP_TASK_NAME }, () => 1)).toThrow(TaskDefinitionError);
    expect(() => task({ name: SLEEP_TASK_NAME }, () => 1)).toThrow(
      "task 'sheppy.sleep': that name is the built-in task of a workflow's sleep() step; pick another name",
    );
    expect(() => taskSpecByName(SLEEP_TASK_NAME, [60])).toThrow(UnknownTaskError);
    // Every process knows it without registering it.
    expect(findTask(SLEEP_TASK_NAME)?.name).toBe(SLEEP_TASK_NAME);
  });

  it("a claimed step is put off until its creation plus its delay, or its instant; once put off, or due, it runs", () => {
    const inAnHour = sleepingRecord(claimedSleep([3600]), START + 1000);
    expect(inAnHour).toMatchObject({
      status: "scheduled",
      scheduledAt: "2030-01-01T01:00:00.000Z",
      startedAt: null,
      meta: { [SLEEP_META_KEY]: "2030-01-01T01:00:00.000Z", "sheppy.workflow": "wf" },
    });
    expect(sleepingRecord(inAnHour!, START + 2000)).toBeNull();
    expect(sleepingRecord(claimedSleep([3600]), START + HOUR)).toBeNull();
    const until = claimedSleep(["2030-01-02T00:00:00.000Z"]);
    expect(sleepingRecord(until, START)?.scheduledAt).toBe("2030-01-02T00:00:00.000Z");
    // Not a workflow's step: run when claimed.
    expect(sleepingRecord({ ...until, workflowId: null }, START)).toBeNull();
  });

  it("a stored delay that reaches past what a Date holds (no sleep() asks for one) is no wake time: the step runs when claimed", () => {
    const record = {
      ...claimedSleep([8639019014400.001], {}),
      createdAt: "2030-01-01T00:00:00.000Z",
    };
    expect(sleepWakeAt(record)).toBeNull();
    expect(sleepingRecord(record, START)).toBeNull();
  });

  it("property: the gate reads any stored arguments, meta and creation time without throwing, and puts off only until a later time", () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 3 }),
        fc.option(fc.string(), { nil: undefined }),
        fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        fc.integer({ min: -1e12, max: 1e12 }),
        (args, marker, createdAt, offset) => {
          const record = {
            ...claimedSleep(
              args as JsonValue[],
              marker === undefined ? {} : { [SLEEP_META_KEY]: marker },
            ),
            createdAt,
          };
          const now = START + offset;
          const wake = sleepWakeAt(record);
          const sleeping = sleepingRecord(record, now);
          if (sleeping === null) return;
          expect(marker).toBeUndefined();
          expect(wake).not.toBeNull();
          expect(wake!).toBeGreaterThan(now);
          expect(Date.parse(sleeping.scheduledAt!)).toBe(wake);
          expect(sleeping.status).toBe("scheduled");
          expect(sleepingRecord(sleeping, now)).toBeNull();
        },
      ),
    );
  });

  it("TestQueue: processWorkflow stops at a sleep; advancing the clock and processScheduled() wakes it", async () => {
    const clock = new TestClock(START);
    const queue = new TestQueue({ clock });
    const wf = await queue.processWorkflow(reminder("ada"));
    expect(wf.status).toBe("running");
    const [, nap] = await queue.getWorkflowSteps(wf);
    expect([nap?.name, nap?.status, nap?.scheduledAt?.toISOString()]).toEqual([
      SLEEP_TASK_NAME,
      "scheduled",
      "2030-01-02T00:00:00.000Z",
    ]);
    await clock.advance(23 * 3600);
    expect(await queue.processScheduled()).toEqual([]);
    await clock.advance(3600);
    expect((await queue.processScheduled()).map((t) => t.name)).toEqual([SLEEP_TASK_NAME]);
    await queue.processAll();
    expect((await queue.getWorkflow(wf))?.status).toBe("running");
    await clock.advanceTo(Date.parse("2030-01-05T00:00:00Z"));
    await queue.processScheduled();
    await queue.processAll();
    const done = await queue.waitForWorkflow(wf, { timeout: 0 });
    expect([done.status, done.result]).toEqual(["completed", ["hello ada", "hello ada again"]]);
  });

  it("cancelling the sleep step alone ends the wait: the body goes on", async () => {
    const clock = new TestClock(START);
    const queue = new TestQueue({ clock });
    const wf = await queue.processWorkflow(reminder("bo"));
    const [, nap] = await queue.getWorkflowSteps(wf);
    expect(nap?.status).toBe("scheduled");
    await queue.cancel(nap!.id);
    await queue.processAll();
    const next = await queue.getWorkflow(wf);
    expect(next?.steps.map((s) => s.name)).toEqual([
      "wf-sleep.greet",
      SLEEP_TASK_NAME,
      "wf-sleep.greet",
      SLEEP_TASK_NAME,
    ]);
    expect(clock.now()).toBe(START);
  });

  it("a deploy that changes a delay keeps the wake time of a sleep already asked for; a sleep asked for later takes the new one", async () => {
    const clock = new TestClock(START);
    const queue = new TestQueue({ clock });
    delay = 60;
    const wf = await queue.processWorkflow(drifting());
    const [nap] = await queue.getWorkflowSteps(wf);
    expect(nap?.scheduledAt?.getTime()).toBe(START + 60_000);
    delay = 120;
    await clock.advance(60);
    expect((await queue.processScheduled()).map((t) => t.name)).toEqual([SLEEP_TASK_NAME]);
    await queue.processAll();
    const done = await queue.waitForWorkflow(wf, { timeout: 0 });
    expect([done.status, done.result, done.error]).toEqual(["completed", "done", null]);
    // The step as recorded: its first delay.
    expect((await queue.getWorkflowSteps(wf))[0]?.args).toEqual([60]);
    const later = await queue.processWorkflow(drifting());
    expect((await queue.getWorkflowSteps(later))[0]?.scheduledAt?.getTime()).toBe(
      clock.now() + 120_000,
    );
    delay = 60;
  });

  it("a sleep where a changed body asks for another task is still a changed body", async () => {
    const clock = new TestClock(START);
    const queue = new TestQueue({ clock });
    shape = "sleep";
    const wf = await queue.processWorkflow(reshaped());
    shape = "step";
    await clock.advance(60);
    await queue.processScheduled();
    await queue.processAll();
    const failed = await queue.waitForWorkflow(wf, { timeout: 0 });
    expect(failed.status).toBe("failed");
    expect(failed.error?.type).toBe(NonDeterministicWorkflowError.name);
    expect(failed.error?.message).toContain(
      "the task changed from 'sheppy.sleep' to 'wf-sleep.greet'",
    );
  });
});
