/**
 * Rate limits per task: checked when a worker claims the task; an over-limit
 * task is not run but stored back as `scheduled` for its slot (staggered),
 * never dropped or failed; counted per queue and key across every instance of
 * a backend, on the caller's clock — so a `TestClock` drives it everywhere.
 */

import { describe, expect, it } from "vitest";
import type { RateLimitRequest } from "../../backends/backend.js";
import type { Queue, Task } from "../../index.js";
import { task } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceInSteps, advanceUntil } from "../support/clocks.js";
import { until } from "../support/until.js";

const START = Date.parse("2030-01-01T00:00:00Z");
const STRATEGIES = ["sliding_window", "fixed_window"] as const;
type Strategy = (typeof STRATEGIES)[number];

const echo = (value: string) => value;
/** maxRate 2 per 5 s, one definition per strategy (the strategy is part of the task's options). */
const twoPerFive = {
  sliding_window: task(
    { name: "rate-limit.two-per-five.sliding", rateLimit: { maxRate: 2, ratePeriod: 5 } },
    echo,
  ),
  fixed_window: task(
    {
      name: "rate-limit.two-per-five.fixed",
      rateLimit: { maxRate: 2, ratePeriod: 5, strategy: "fixed_window" },
    },
    echo,
  ),
};
/** maxRate 2 per 10 s: long enough to place starts inside and across one window. */
const twoPerTen = {
  sliding_window: task(
    { name: "rate-limit.two-per-ten.sliding", rateLimit: { maxRate: 2, ratePeriod: 10 } },
    echo,
  ),
  fixed_window: task(
    {
      name: "rate-limit.two-per-ten.fixed",
      rateLimit: { maxRate: 2, ratePeriod: 10, strategy: "fixed_window" },
    },
    echo,
  ),
};
const onePerTwo = task(
  { name: "rate-limit.one-per-two", rateLimit: { maxRate: 1, ratePeriod: 2 } },
  echo,
);
const sharedA = task(
  { name: "rate-limit.shared-a", rateLimit: { maxRate: 1, ratePeriod: 10, key: "shared" } },
  echo,
);
const sharedB = task(
  { name: "rate-limit.shared-b", rateLimit: { maxRate: 1, ratePeriod: 10, key: "shared" } },
  echo,
);
/** One start per 10 s for each tenant: the key is a function of the task's first argument. */
const perTenant = task(
  {
    name: "rate-limit.per-tenant",
    rateLimit: { maxRate: 1, ratePeriod: 10, key: (tenant: string) => `tenant:${tenant}` },
  },
  (tenant: string, n: number) => `${tenant}-${n}`,
);
const twoPerSecond = task(
  { name: "rate-limit.two-per-second", rateLimit: { maxRate: 2, ratePeriod: 1, key: "two" } },
  echo,
);
const realClock = task(
  { name: "rate-limit.real-clock", rateLimit: { maxRate: 2, ratePeriod: 0.5 } },
  echo,
);

const statusOf = async (queue: Queue, t: Task) => (await queue.getTask(t))?.status;

/** The stored record once it has completed, else null (a probe for `until` / `advanceUntil`). */
const completed = async (queue: Queue, t: Task) => {
  const stored = await queue.getTask(t);
  return stored?.status === "completed" ? stored : null;
};

export function rateLimitCases(h: ContractHarness): void {
  describe("rate limits", () => {
    for (const strategy of STRATEGIES) {
      it(`RL-2 / RL-3 / RL-9 ${strategy}: three tasks under maxRate 2 per 5 s — two start at once, the third is scheduled and not started before 5 s`, async () => {
        const clock = new TestClock(START);
        const queue = h.queue({ clock });
        const tasks = ["one", "two", "three"].map((label) => twoPerFive[strategy](label));
        const [first, second, third] = tasks as [Task<string>, Task<string>, Task<string>];
        await queue.add(tasks);
        const worker = h.worker(queue, { clock });
        const deferred: string[] = [];
        worker.on("task:deferred", ({ task: t }) => deferred.push(t.id));
        const working = worker.work({ maxTasks: 3 });

        await until(
          async () =>
            (await statusOf(queue, third)) === "scheduled" &&
            (await completed(queue, first)) &&
            (await completed(queue, second)),
          { what: "two tasks run and the third put off" },
        );
        const [a, b, c] = await queue.getTask(tasks);
        expect([a?.startedAt?.getTime(), b?.startedAt?.getTime()]).toEqual([START, START]);
        // Over the limit: not run, not failed, scheduled for the next free slot; its claim is released.
        expect(c).toMatchObject({
          status: "scheduled",
          startedAt: null,
          result: null,
          error: null,
          retryCount: 0,
        });
        expect(c?.scheduledAt?.getTime()).toBe(START + 5000);
        expect(deferred).toEqual([third.id]);
        expect((await queue.getScheduled()).map((t) => t.id)).toEqual([third.id]);
        expect(await queue.stats()).toMatchObject({ processing: 0, scheduled: 1, completed: 2 });

        await advanceInSteps(clock, 4.9);
        expect(await statusOf(queue, third)).toBe("scheduled");
        const done = await advanceUntil(clock, () => completed(queue, third), {
          step: 0.05,
          what: "the third task to run",
        });
        expect(done.result).toBe("three");
        expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(START + 5000);
        // The put-off claim did not count toward maxTasks: work() ran all three.
        expect(await working).toMatchObject({ processed: 3, failed: 0 });
        expect(deferred).toEqual([third.id]);
      });
    }

    it("RL-7 fixed and sliding windows differ: after starts at 0 s and 9 s, two more at 10 s — fixed admits both, sliding one (the other waits until 19 s)", async () => {
      const observe = async (strategy: Strategy) => {
        const clock = new TestClock(START);
        const queue = h.queue({ clock });
        void h.worker(queue, { clock }).work();
        const make = twoPerTen[strategy];
        const a = make("a");
        await queue.add(a);
        await until(() => completed(queue, a));
        await advanceInSteps(clock, 9);
        const b = make("b");
        await queue.add(b);
        await until(() => completed(queue, b));
        await advanceInSteps(clock, 1);
        const [c, d] = [make("c"), make("d")];
        await queue.add([c, d]);
        await until(
          async () =>
            (await queue.getTask([c, d])).every(
              (t) => t?.status === "completed" || t?.status === "scheduled",
            ),
          { what: "both tasks run or put off" },
        );
        const atTen = (await queue.getTask([c, d])).map((t) => ({
          status: t?.status,
          startedAt: t?.startedAt?.getTime() ?? null,
          scheduledAt: t?.scheduledAt?.getTime() ?? null,
        }));
        const last = await advanceUntil(clock, () => completed(queue, d), {
          step: 0.05,
          maxSeconds: 30,
        });
        return { atTen, dStartedAt: last.startedAt!.getTime() };
      };

      const fixed = await observe("fixed_window");
      const sliding = await observe("sliding_window");
      // Fixed: the window opened at 0 s ended at 10 s; a new one admits both.
      expect(fixed.atTen).toEqual([
        { status: "completed", startedAt: START + 10_000, scheduledAt: null },
        { status: "completed", startedAt: START + 10_000, scheduledAt: null },
      ]);
      // Sliding: the start at 9 s still counts at 10 s; the next slot is when it leaves (19 s).
      expect(sliding.atTen).toEqual([
        { status: "completed", startedAt: START + 10_000, scheduledAt: null },
        { status: "scheduled", startedAt: null, scheduledAt: START + 19_000 },
      ]);
      expect(sliding.dStartedAt).toBeGreaterThanOrEqual(START + 19_000);
    });

    it("RL-6 a burst is staggered into slots ratePeriod / maxRate apart and every task runs, none failed", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const tasks = ["a", "b", "c", "d"].map((label) => onePerTwo(label));
      await queue.add(tasks);
      const working = h.worker(queue, { clock }).work({ maxTasks: 4 });
      await until(
        async () =>
          (await queue.getTask(tasks)).filter((t) => t?.status === "scheduled").length === 3,
        { what: "three tasks put off" },
      );
      const slots = (await queue.getScheduled()).map((t) => t.scheduledAt!.getTime() - START);
      expect(slots).toEqual([2000, 4000, 6000]);

      await advanceUntil(
        clock,
        async () => (await queue.getTask(tasks)).every((t) => t?.status === "completed"),
        { step: 0.05, what: "every task to run" },
      );
      expect(await working).toMatchObject({ processed: 4, failed: 0 });
      const starts = (await queue.getTask(tasks))
        .map((t) => t!.startedAt!.getTime())
        .sort((x, y) => x - y);
      expect(starts[0]).toBe(START);
      // One per 2 s: consecutive starts at least a period apart (a 100 ms step of slack for the claim).
      for (let i = 1; i < starts.length; i++) {
        expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1900);
      }
    });

    it("RL-6 a task back at its slot and refused again (a start counted after its slot was told) is told when the window has room, not a slot behind the rest", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const backend = await queue.connect();
      const tasks = Array.from({ length: 8 }, (_, i) => twoPerSecond(`t${i}`));
      await queue.add(tasks);
      const working = h.worker(queue, { clock }).work({ maxTasks: 8 });
      await until(
        async () =>
          (await queue.getTask(tasks)).filter((t) => t?.status === "scheduled").length === 6,
        { what: "six tasks put off" },
      );
      const scheduledAt = async (t: Task) =>
        ((await queue.getTask(t))?.scheduledAt?.getTime() ?? Number.NaN) - START;
      // Slots 500 ms apart from when the window has room.
      expect(await Promise.all(tasks.slice(2).map(scheduledAt))).toEqual([
        1000, 1500, 2000, 2500, 3000, 3500,
      ]);
      await clock.advanceTo(START + 1000);
      await until(async () => (await queue.getTask(tasks[2]!))?.startedAt, { what: "third" });
      // A start another process counts at 1020 (its worker a little late): the window is full
      // again when the fourth comes back at 1500.
      const foreign = { key: "two", maxRate: 2, periodMs: 1000 };
      expect(
        await backend.acquireRateLimit(queue.name, {
          ...foreign,
          taskId: "another",
          strategy: "sliding_window",
          now: START + 1020,
        }),
      ).toBeNull();
      await clock.advanceTo(START + 1500);
      await until(async () => (await scheduledAt(tasks[3]!)) !== 1500, {
        what: "the fourth put off again",
      });
      // Told 2000, when the start at 1000 leaves the window — not 4000, after every slot told.
      expect(await scheduledAt(tasks[3]!)).toBe(2000);
      expect(await Promise.all(tasks.slice(4).map(scheduledAt))).toEqual([2000, 2500, 3000, 3500]);
      await advanceUntil(
        clock,
        async () => (await queue.getTask(tasks)).every((t) => t?.status === "completed"),
        { step: 0.03, what: "every task to run" },
      );
      expect(await working).toMatchObject({ processed: 8, failed: 0 });
      const starts = (await queue.getTask(tasks)).map((t) => t!.startedAt!.getTime() - START);
      // Nine starts at two a second, the other process's among them: the last one at 4 s.
      expect(Math.max(...starts)).toBeLessThan(4000 + 200);
      // Never more than two in any second, the other process's start counted — with a few
      // steps of slack: startedAt is stamped at the claim, the limit counts at the check after it.
      const all = [...starts, 1020].sort((x, y) => x - y);
      for (let i = 2; i < all.length; i++)
        expect(all[i]! - all[i - 2]!).toBeGreaterThanOrEqual(900);
    });

    it("RL-1 tasks with the same key share one limit, whatever their names", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const [x, y] = [sharedA("x"), sharedB("y")];
      await queue.add([x, y]);
      const deferred: Task[] = [];
      const worker = h.worker(queue, { clock });
      worker.on("task:deferred", ({ task: t }) => deferred.push(t));
      void worker.work();
      await until(async () => deferred.length === 1 && (await completed(queue, x)) !== null);
      expect(deferred.map((t) => [t.id, t.scheduledAt?.getTime()])).toEqual([
        [y.id, START + 10_000],
      ]);
      expect(await statusOf(queue, y)).toBe("scheduled");
    });

    it("RL-1 a key computed from the arguments gives each tenant a limit of its own", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const [a1, a2, b1] = [perTenant("a", 1), perTenant("a", 2), perTenant("b", 1)];
      expect(a1.config.rateLimit?.key).toBe("tenant:a");
      expect(b1.config.rateLimit?.key).toBe("tenant:b");
      await queue.add([a1, a2, b1]);
      const deferred: Task[] = [];
      const worker = h.worker(queue, { clock });
      worker.on("task:deferred", ({ task: t }) => deferred.push(t));
      void worker.work();
      await until(
        async () =>
          deferred.length === 1 &&
          (await completed(queue, a1)) !== null &&
          (await completed(queue, b1)) !== null,
      );
      // Tenant b's task ran alongside a's first: only a's second waits for a's next slot.
      expect(deferred.map((t) => [t.id, t.scheduledAt?.getTime()])).toEqual([
        [a2.id, START + 10_000],
      ]);
      expect((await queue.getTask(a2))?.config.rateLimit?.key).toBe("tenant:a");
    });

    describe("backend", () => {
      const request = (
        strategy: Strategy,
        now: number,
        key: string = strategy,
      ): RateLimitRequest => ({
        key,
        maxRate: 2,
        periodMs: 5000,
        taskId: `t-${now}`,
        strategy,
        now,
      });

      it("B-33 / RL-10 acquireRateLimit counts at the caller's `now`, with the same answers on every backend", async () => {
        const queue = h.queue();
        const backend = await queue.connect();
        // Far from the real time: only the caller's clock counts.
        const T = 1_000_000;
        const answers = async (strategy: Strategy) => {
          const at = (now: number) => backend.acquireRateLimit(queue.name, request(strategy, now));
          const seen: (number | null)[] = [];
          for (const now of [T, T + 1000, T + 1000, T + 1000, T + 5000, T + 5000, T + 5000]) {
            seen.push(await at(now));
          }
          return seen;
        };
        // Two admitted; refusals wait for the window, staggered 2.5 s (5 s / 2) apart.
        expect(await answers("sliding_window")).toEqual([
          null,
          null,
          4000,
          6500,
          null, // the start at T left the trailing 5 s
          5000, // the start at T + 1 s still counts; the next staggered slot is T + 10 s
          7500,
        ]);
        expect(await answers("fixed_window")).toEqual([
          null,
          null,
          4000,
          6500,
          null, // the window that opened at T ended at T + 5 s: a new one opens
          null,
          5000, // the new window is full; the staggered slot is T + 10 s
        ]);
      });

      it("B-33 / RL-8 limits are per queue and per key; clear() resets them", async () => {
        const queue = h.queue();
        const other = h.queue();
        const backend = await queue.connect();
        const T = 2_000_000;
        for (const strategy of STRATEGIES) {
          const at = (q: string, key?: string) =>
            backend.acquireRateLimit(q, request(strategy, T, key));
          expect([await at(queue.name), await at(queue.name)]).toEqual([null, null]);
          expect(await at(queue.name)).toBe(5000);
          expect(await at(queue.name, `${strategy}-other-key`)).toBeNull();
          expect(await at(other.name)).toBeNull();
        }
        await queue.clear();
        for (const strategy of STRATEGIES) {
          expect(
            await backend.acquireRateLimit(queue.name, request(strategy, T)),
            strategy,
          ).toBeNull();
        }
      });
    });

    it("RL-5 / RL-8 real clock: 2 per 0.5 s across two backend instances — every task runs, at most 2 starts in any 0.5 s", async () => {
      const queue = h.queue();
      const sibling = h.sibling(queue);
      const tasks = ["a", "b", "c", "d", "e"].map((label) => realClock(label));
      await queue.add(tasks);
      const workers = [h.worker(queue), h.worker(sibling)];
      let deferrals = 0;
      for (const worker of workers) {
        worker.on("task:deferred", () => deferrals++);
        void worker.work();
      }
      const done = await queue.waitFor(tasks, { timeout: 10 });
      expect(done.map((t) => t.status)).toEqual(Array(5).fill("completed"));
      expect(deferrals).toBeGreaterThanOrEqual(3);
      const starts = done.map((t) => t.startedAt!.getTime()).sort((x, y) => x - y);
      // A start stamped at claim precedes its admission by a round trip: 100 ms of slack.
      for (let i = 2; i < starts.length; i++) {
        expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(400);
      }
    });
  });
}
