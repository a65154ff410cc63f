/**
 * One queue, one time: a Queue made from a URL hands its clock to the backend
 * it makes, a Queue over a backend instance reads that backend's clock, and a
 * queue given a clock the backend does not use is refused — otherwise tasks
 * are stamped by one clock and run, retried and rate-limited by another.
 */
import { InvalidOptionError, MemoryBackend, Queue, step, task, Worker, workflow } from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, it } from "vitest";

const later = task({ name: "queue-clock.later" }, (x: number) => x * 2);
const flaky = task(
  { name: "queue-clock.flaky", retry: 1, retryDelay: 30 },
  (_n: number): number => {
    throw new Error("not yet");
  },
);
const chains = task({ name: "queue-clock.chains" }, (x: number) => later(x));
const twice = workflow({ name: "queue-clock.twice" }, function* (x: number) {
  const first = yield* step(later(x));
  return first.result;
});
const START = Date.parse("2030-01-01T00:00:00Z");

describe("the queue's clock is its backend's", () => {
  it("memory:// with { clock }: a scheduled task runs when the test clock passes its time, not before", async () => {
    const clock = new TestClock(START);
    const queue = new Queue("memory://", { name: "url-clock", clock });
    expect(queue.backend.clock).toBe(clock);
    const t = later(4);
    await queue.schedule(t, 60);
    expect((await queue.getTask(t))?.scheduledAt?.toISOString()).toBe("2030-01-01T00:01:00.000Z");
    await clock.advance(30);
    expect((await queue.getTask(t))?.status).toBe("scheduled");
    await clock.advance(90);
    const done = await queue.waitFor(t, { timeout: 5 });
    expect(done.status).toBe("completed");
    expect(done.result).toBe(8);
    await queue.close();
  });

  it("a clock in the past holds a scheduled task until it is advanced", async () => {
    const clock = new TestClock(Date.parse("2020-01-01T00:00:00Z"));
    const queue = new Queue("memory://", { name: "past-clock", clock });
    const t = later(1);
    await queue.schedule(t, 3600);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await queue.getTask(t))?.status).toBe("scheduled");
    await queue.close();
  });

  it("a retry's delay counts on the test clock", async () => {
    const clock = new TestClock(START);
    const queue = new Queue("memory://", { name: "retry-clock", clock });
    const t = flaky(1);
    await queue.add(t);
    // The first attempt runs inline, soon but not at once: wait for its outcome, boundedly.
    let waiting = await queue.getTask(t);
    for (let i = 0; i < 100 && !waiting?.nextRetryAt; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      waiting = await queue.getTask(t);
    }
    expect(waiting?.nextRetryAt?.toISOString()).toBe("2030-01-01T00:00:30.000Z");
    await queue.close();
  });

  it("a backend instance's clock becomes the queue's when the queue is given none", () => {
    const clock = new TestClock(START);
    const queue = new Queue(new MemoryBackend({ clock }), { name: "instance-clock" });
    expect(queue.clock).toBe(clock);
  });

  it("a clock the backend does not use is refused in one line", () => {
    const clock = new TestClock(START);
    const build = () => new Queue(new MemoryBackend(), { name: "two-clocks", clock });
    expect(build).toThrow(InvalidOptionError);
    expect(build).toThrow(/^new Queue\(\): the clock option is not the backend's clock; [^\n]+$/);
  });

  it("a record's creation time is on the queue's clock: added, scheduled, chained and a workflow's", async () => {
    const clock = new TestClock(START);
    const queue = new TestQueue({ clock });
    const t = later(1);
    await queue.add(t);
    const s = later(2);
    await queue.schedule(s, 60);
    const parent = chains(3);
    await queue.add(parent);
    await clock.advance(5);
    await queue.processAll();
    const child = (await queue.getTask(parent))?.result;
    const wf = await queue.processWorkflow(twice(4));
    for (const record of [await queue.getTask(t), await queue.getTask(s)]) {
      expect(record?.createdAt.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    }
    expect((await queue.getTask(child!))?.createdAt.toISOString()).toBe("2030-01-01T00:00:05.000Z");
    expect(wf.createdAt.toISOString()).toBe("2030-01-01T00:00:05.000Z");
    const done = await queue.getTask(t);
    expect(done!.finishedAt!.getTime()).toBeGreaterThanOrEqual(done!.createdAt.getTime());
    await queue.close();
  });

  it("a worker takes its queue's clock: what it finishes is stamped by the queue's time, and kept", async () => {
    const clock = new TestClock(START);
    const queue = new Queue("memory://?instantProcessing=false", { name: "worker-clock", clock });
    const t = later(2);
    await queue.add(t);
    await new Worker(queue).work({ oneshot: true });
    const done = await queue.getTask(t);
    expect(done?.status).toBe("completed");
    expect(done?.finishedAt?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    // Another clock than the queue's is refused; queues on two test clocks cannot share a worker.
    expect(() => new Worker(queue, { clock: new TestClock(START) })).toThrow(
      /^new Worker\(\): the clock option is not its queue's clock; /,
    );
    expect(new Worker(queue, { clock }).queues).toEqual([queue]);
    const other = new Queue("memory://", { name: "other-clock", clock: new TestClock(START) });
    expect(() => new Worker([queue, other])).toThrow(/its queues run on different clocks/);
    await Promise.all([queue.close(), other.close()]);
  });
});
