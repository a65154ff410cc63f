/**
 * What a running task reports is written on the attempt's clock: under a
 * `TestClock`, `advance()` writes it (the first report after 0.2 s, later ones
 * at most once a second) and a test sees mid-run progress without sleeping;
 * on the system clock, in real time as before. A task that reports nothing
 * sets no timer.
 */
import { progress, task } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";

/** A promise and the function that resolves it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** The points each test's task waits at or signals, made afresh per test. */
let gates = { reported: gate(), carryOn: gate(), reportedAgain: gate(), finish: gate() };
const freshGates = () => {
  gates = { reported: gate(), carryOn: gate(), reportedAgain: gate(), finish: gate() };
};

const reporting = task({ name: "test-queue-progress.reporting" }, async () => {
  progress({ step: 1 });
  gates.reported.open();
  await gates.finish.opened;
  return "done";
});
const steps = task({ name: "test-queue-progress.steps" }, async () => {
  progress({ step: 1 });
  gates.reported.open();
  await gates.carryOn.opened;
  progress({ step: 2 });
  gates.reportedAgain.open();
  await gates.finish.opened;
  return "done";
});
const quiet = task({ name: "test-queue-progress.quiet" }, async () => {
  gates.reported.open();
  await gates.finish.opened;
  return "done";
});

const start = Date.parse("2030-01-01T00:00:00Z");

describe("progress under a TestClock", () => {
  test("advance() writes mid-run progress: the first report after 0.2 s of the clock", async () => {
    freshGates();
    const clock = new TestClock(start);
    const queue = new TestQueue({ clock });
    const t = reporting();
    await queue.add(t);
    const running = queue.processNext();
    await gates.reported.opened;
    await clock.advance(0.1);
    expect((await queue.getTask(t))?.progress).toBeNull();
    await clock.advance(0.1);
    const seen = await queue.getTask(t);
    expect([seen?.status, seen?.progress]).toEqual(["processing", { step: 1 }]);
    gates.finish.open();
    expect((await running)?.progress).toEqual({ step: 1 });
    // Its write timer ended with it.
    expect(clock.pendingTimers).toBe(0);
  });

  test("a later report waits out the 1 s between writes on the clock", async () => {
    freshGates();
    const clock = new TestClock(start);
    const queue = new TestQueue({ clock });
    const t = steps();
    await queue.add(t);
    const running = queue.processNext();
    await gates.reported.opened;
    await clock.advance(0.2);
    expect((await queue.getTask(t))?.progress).toEqual({ step: 1 });
    gates.carryOn.open();
    await gates.reportedAgain.opened;
    await clock.advance(0.9);
    expect((await queue.getTask(t))?.progress).toEqual({ step: 1 });
    await clock.advance(0.1);
    expect((await queue.getTask(t))?.progress).toEqual({ step: 2 });
    gates.finish.open();
    expect((await running)?.status).toBe("completed");
  });

  test("a task that reports nothing sets no timer while it runs", async () => {
    freshGates();
    const clock = new TestClock(start);
    const queue = new TestQueue({ clock });
    await queue.add(quiet());
    const running = queue.processNext();
    await gates.reported.opened;
    expect(clock.pendingTimers).toBe(0);
    gates.finish.open();
    expect((await running)?.status).toBe("completed");
  });
});

describe("progress on the system clock", () => {
  test("is written in real time, as before", async () => {
    freshGates();
    const queue = new TestQueue();
    const t = reporting();
    await queue.add(t);
    const running = queue.processNext();
    await gates.reported.opened;
    await expect.poll(async () => (await queue.getTask(t))?.progress).toEqual({ step: 1 });
    gates.finish.open();
    expect((await running)?.status).toBe("completed");
  });
});
