/**
 * Inline processing: a backend that runs tasks in the adding process
 * (memory's `instantProcessing`) does so through the same attempt pipeline a
 * worker uses. A task added is done when `add` returns — with its immediate
 * retries and the tasks it chains — and a task that waits for a time runs
 * when the backend's clock gets there.
 */
import { describe, expect } from "vitest";
import { currentTask, type Queue, task } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { PerTest } from "../support/until.js";

const START = Date.parse("2030-01-01T00:00:00Z");
const REASON = "the backend does not run tasks in the adding process";

const double = task({ name: "inline.double" }, (n: number) => n * 2);
const runs = new PerTest<{ count: number }>(() => ({ count: 0 }));
const failOnce = task({ name: "inline.fail-once", retry: 1, retryDelay: 0 }, (token: string) => {
  runs.get(token).count++;
  if (runs.get(token).count === 1) throw new Error("first run fails");
  return "recovered";
});
const chain = task({ name: "inline.chain" }, (n: number) => [double(n), double(n + 1)]);
const limited = task(
  { name: "inline.limited", rateLimit: { maxRate: 1, ratePeriod: 10 } },
  (n: number) => n,
);
/** The queue a nested add goes to, per test. */
const nestedQueue = new PerTest<{ queue?: Queue }>(() => ({}));
const addsAnother = task({ name: "inline.adds-another" }, async (token: string) => {
  const inner = double(21);
  await nestedQueue.get(token).queue!.add(inner);
  return { inner: inner.id, by: currentTask().id };
});

export function inlineCases(h: ContractHarness): void {
  describe("inline processing", () => {
    h.itIfInline(REASON)(
      "M-1 a task added runs inside add: completed when add returns",
      async () => {
        const queue = h.queue({ instantProcessing: true });
        const t = double(4);
        expect(await queue.add(t)).toBe(true);
        const done = await queue.getTask(t);
        expect([done?.status, done?.result]).toEqual(["completed", 8]);
        expect(await queue.size()).toBe(0);
      },
    );

    h.itIfInline(REASON)("M-2 a retry due at once runs before add returns", async () => {
      const queue = h.queue({ instantProcessing: true });
      const token = `inline-${Math.random()}`;
      const t = failOnce(token);
      await queue.add(t);
      const done = await queue.getTask(t);
      expect([done?.status, done?.result, done?.retryCount]).toEqual(["completed", "recovered", 1]);
      expect(runs.get(token).count).toBe(2);
    });

    h.itIfInline(REASON)("CH-8 tasks a task chains run too", async () => {
      const queue = h.queue({ instantProcessing: true });
      const parent = chain(5);
      await queue.add(parent);
      const children = (await queue.getTask(parent))?.result as unknown as { id: string }[];
      expect(children).toHaveLength(2);
      const ran = await queue.getTask(children.map((c) => c.id));
      expect(ran.map((c) => [c?.status, c?.result])).toEqual([
        ["completed", 10],
        ["completed", 12],
      ]);
    });

    h.itIfInline(REASON)("a task added by a running task runs too", async () => {
      const queue = h.queue({ instantProcessing: true });
      const token = `nested-${Math.random()}`;
      nestedQueue.get(token).queue = queue;
      const outer = addsAnother(token);
      await queue.add(outer);
      const done = await queue.getTask(outer);
      expect(done?.status).toBe("completed");
      const { inner } = done!.result as { inner: string };
      expect((await queue.getTask(inner))?.result).toBe(42);
    });

    h.itIfInline(REASON)(
      "M-4 a scheduled task runs when the backend's clock reaches its time",
      async () => {
        const clock = new TestClock(START);
        const queue = h.queue({ clock, instantProcessing: true });
        const t = double(7);
        await queue.schedule(t, 60);
        expect((await queue.getTask(t))?.status).toBe("scheduled");
        await clock.advance(59);
        expect((await queue.getTask(t))?.status).toBe("scheduled");
        await clock.advance(1);
        const done = await queue.waitFor(t, { timeout: 5 });
        expect([done.status, done.result]).toEqual(["completed", 14]);
        expect(done.startedAt?.getTime()).toBe(START + 60_000);
      },
    );

    h.itIfInline(REASON)(
      "RL-11 a task over its rate limit waits for its slot, then runs",
      async () => {
        const clock = new TestClock(START);
        const queue = h.queue({ clock, instantProcessing: true });
        const [first, second] = [limited(1), limited(2)];
        await queue.add([first, second]);
        const [a, b] = await queue.getTask([first, second]);
        expect([a?.status, b?.status]).toEqual(["completed", "scheduled"]);
        expect(b?.scheduledAt?.getTime()).toBe(START + 10_000);
        await clock.advance(10);
        const done = await queue.waitFor(second, { timeout: 5 });
        expect([done.status, done.result]).toEqual(["completed", 2]);
      },
    );
  });
}
