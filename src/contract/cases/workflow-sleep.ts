/**
 * A workflow's timer: `sleep(seconds)` and `sleepUntil(time)` are steps of
 * the built-in task `sheppy.sleep`, put off by the first worker that claims
 * them until their wake time and completed by the one that claims them then.
 * Long waits run on a `TestClock` (nothing sleeps for real); waking early by
 * a reschedule, a past time, cancelling and bad input run on the real clock.
 */

import { describe, expect, it } from "vitest";
import {
  InvalidOptionError,
  type Queue,
  sleep,
  sleepUntil,
  step,
  task,
  workflow,
} from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceUntil } from "../support/clocks.js";
import { until } from "../support/until.js";

const add = task({ name: "workflow-sleep.add" }, (a: number, b: number) => a + b);

const napping = workflow({ name: "workflow-sleep.napping" }, function* (seconds: number) {
  const before = yield* step(add(1, 1));
  yield* sleep(seconds);
  const after = yield* step(add(before.result!, 1));
  return after.result;
});
const sleepFirst = workflow({ name: "workflow-sleep.sleep-first" }, function* (seconds: number) {
  yield* sleep(seconds);
  return "awake";
});
const untilThen = workflow({ name: "workflow-sleep.until" }, function* (time: string) {
  yield* sleepUntil(time);
  yield* sleepUntil(new Date(time));
  yield* sleep(0);
  return "awake";
});
const badDelay = workflow({ name: "workflow-sleep.bad-delay" }, function* (delay: unknown) {
  yield* sleep(delay as number);
  return "slept";
});
const badTime = workflow({ name: "workflow-sleep.bad-time" }, function* (time: unknown) {
  yield* sleepUntil(time as string);
  return "slept";
});

const MINUTE = 60_000;
/** Where test clocks start: far from the real time, so nothing can pass by accident. */
const CLOCK_START = Date.parse("2030-01-01T08:00:00.000Z");

export function workflowSleepCases(h: ContractHarness): void {
  /** The workflow's sleep step, once a worker has put it off to its wake time. */
  const sleepingStep = (queue: Queue, workflowId: string) =>
    until(
      async () => {
        const steps = await queue.getWorkflowSteps(workflowId);
        const sleeping = steps.find((s) => s?.name === "sheppy.sleep");
        return sleeping?.status === "scheduled" ? sleeping : null;
      },
      { what: "the sleep step put off to its wake time" },
    );

  describe("workflow sleep", () => {
    it("(test clock) sleep(1800) is a step scheduled 30 min after it was asked for; the workflow goes on only once it is due", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const worker = h.worker(queue, { clock, schedulerInterval: 1 });
      void worker.work();
      const wf = await queue.addWorkflow(napping(1800));
      const asleep = await advanceUntil(
        clock,
        async () => {
          const steps = await queue.getWorkflowSteps(wf);
          return steps[1]?.status === "scheduled" ? steps[1] : null;
        },
        { step: 0.5, what: "the sleep step put off" },
      );
      expect(asleep.name).toBe("sheppy.sleep");
      expect(asleep.args).toEqual([1800]);
      const due = asleep.createdAt.getTime() + 30 * MINUTE;
      expect(asleep.scheduledAt?.getTime()).toBe(due);
      expect(asleep.meta["sheppy.wakeAt"]).toBe(new Date(due).toISOString());
      // A put-off is not an attempt.
      expect([asleep.startedAt, asleep.retryCount]).toEqual([null, 0]);

      await clock.advanceTo(due - MINUTE);
      const early = await queue.getWorkflow(wf);
      expect([early?.status, early?.steps.length]).toEqual(["running", 2]);
      expect((await queue.getTask(asleep.id))?.status).toBe("scheduled");

      const done = await advanceUntil(
        clock,
        async () => {
          const current = await queue.getWorkflow(wf);
          return current?.status === "completed" ? current : null;
        },
        { step: 0.5, what: "the workflow completed after its sleep" },
      );
      expect(done.result).toBe(3);
      expect(done.steps.map((s) => s.name)).toEqual([
        "workflow-sleep.add",
        "sheppy.sleep",
        "workflow-sleep.add",
      ]);
      const woke = await queue.getTask(asleep.id);
      expect(woke?.status).toBe("completed");
      expect(woke!.startedAt!.getTime()).toBeGreaterThanOrEqual(due);
      const [, , last] = await queue.getWorkflowSteps(wf);
      expect(last!.createdAt.getTime()).toBeGreaterThanOrEqual(due);
    });

    it("sleepUntil a time already past, and sleep(0), go on as soon as a worker claims them", async () => {
      const queue = h.queue();
      void h.worker(queue).work();
      const wf = await queue.addWorkflow(untilThen("2001-02-03T04:05:06+01:00"));
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", "awake"]);
      const steps = await queue.getWorkflowSteps(wf);
      expect(steps.map((s) => s?.args)).toEqual([
        ["2001-02-03T03:05:06.000Z"],
        ["2001-02-03T03:05:06.000Z"],
        [0],
      ]);
      // Never put off: none of them waited for anything.
      expect(steps.map((s) => s?.meta["sheppy.wakeAt"])).toEqual([undefined, undefined, undefined]);
    });

    it("a sleeping step moved to now with queue.reschedule wakes the workflow at once", async () => {
      const queue = h.queue();
      void h.worker(queue).work();
      const wf = await queue.addWorkflow(napping(3600));
      const asleep = await sleepingStep(queue, wf.id);
      expect(await queue.reschedule(asleep.id)).toBe(true);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", 3]);
      expect((await queue.getTask(asleep.id))?.status).toBe("completed");
    });

    h.itIf("leases", "a backend without leases has no claims to take over")(
      "a sleep step whose holder died before putting it off is taken over and put off, not ended crashed",
      async () => {
        const queue = h.queue();
        const backend = await queue.connect();
        const wf = await queue.addWorkflow(sleepFirst(3600));
        // A worker claims the sleep step and dies holding it.
        const [claim] = await backend.claim(queue.name, 1, undefined, undefined, 100);
        expect(claim?.record.name).toBe("sheppy.sleep");
        void h
          .worker(queue, { leaseTimeout: 0.3, heartbeatInterval: 0.1, reclaimInterval: 0.1 })
          .work();
        const asleep = await until(
          async () => {
            const stored = await queue.getTask(claim!.record.id);
            return stored?.status === "scheduled" ? stored : null;
          },
          { what: "the taken-over sleep step put off", timeoutMs: 10_000 },
        );
        expect(asleep.retryCount).toBe(1);
        expect(asleep.scheduledAt?.getTime()).toBe(asleep.createdAt.getTime() + 3600_000);
        const current = await queue.getWorkflow(wf);
        expect([current?.status, current?.steps.length]).toEqual(["running", 1]);
      },
    );

    it("a sleep step moved before any worker claimed it keeps the time it was moved to", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(sleepFirst(3600));
      const [nap] = await queue.getWorkflowSteps(wf);
      expect([nap?.name, nap?.status]).toEqual(["sheppy.sleep", "pending"]);
      expect(await queue.reschedule(nap!.id, { at: 0.2 })).toBe(true);
      void h.worker(queue).work();
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", "awake"]);
      const woke = await queue.getTask(nap!.id);
      expect(woke!.startedAt!.getTime() - woke!.createdAt.getTime()).toBeLessThan(60_000);
    });

    it("cancelling a sleeping workflow cancels its sleep step", async () => {
      const queue = h.queue();
      void h.worker(queue).work();
      const wf = await queue.addWorkflow(napping(3600));
      const asleep = await sleepingStep(queue, wf.id);
      const cancelled = await queue.cancelWorkflow(wf);
      expect(cancelled.status).toBe("cancelled");
      expect((await queue.getTask(asleep.id))?.status).toBe("cancelled");
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("a bad delay or time fails the workflow with an InvalidOptionError saying what was given", async () => {
      const queue = h.queue();
      const cases: [Parameters<typeof queue.addWorkflow>[0], RegExp][] = [
        [
          badDelay(-1),
          /^sleep\(\): expected a delay in seconds ≥ 0 and ≤ 315360000 \(10 years\) \(got -1\)$/,
        ],
        [
          badDelay("1h"),
          /^sleep\(\): expected a delay in seconds .*\(got "1h"\); a delay is a number of seconds \(3600 for an hour\)$/,
        ],
        [
          badTime("tomorrow"),
          /^sleepUntil\(\): cannot read 'tomorrow' as a time: expected ISO-8601 with an offset/,
        ],
        [badTime("2030-01-01T09:00:00"), /^sleepUntil\(\): cannot read .* no UTC offset/],
        [
          badTime(12),
          /^sleepUntil\(\): expected a Date or ISO-8601 text with an offset \(got 12\)$/,
        ],
      ];
      for (const [wf, message] of cases) {
        const failed = await queue.addWorkflow(wf);
        expect(failed.status).toBe("failed");
        expect(failed.error?.type).toBe(InvalidOptionError.name);
        expect(failed.error?.message).toMatch(message);
        expect(failed.steps).toEqual([]);
      }
      expect(await queue.size()).toBe(0);
    });
  });
}
