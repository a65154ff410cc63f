/**
 * Failure control: `UnrecoverableError` (and errors flagged
 * `unrecoverable: true`) fail at once without spending retries; backoff
 * strategies — fixed, exponential with a cap, jitter, a function
 * `(attempt, error) => seconds` — and their stored form read back from every
 * backend. Delays are read from the records (`nextRetryAt − lastRetryAt`,
 * both taken at the same instant); cases that need several retries run on a
 * `TestClock`, so nothing waits for a delay.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Task, type TaskFactory, task, UnrecoverableError } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceUntil } from "../support/clocks.js";
import { PerTest } from "../support/until.js";

/** Attempts per test token. */
const attempts = new PerTest(() => ({ count: 0 }));
const attempt = (token: string) => ++attempts.get(token).count;

const alwaysFail = (token: string): string => {
  throw new Error(`failure #${attempt(token)}`);
};

const unrecoverable = task(
  { name: "failure-control.unrecoverable", retry: 3, retryDelay: 0 },
  (token: string): string => {
    attempt(token);
    throw new UnrecoverableError("card declined", { cause: new Error("HTTP 402") });
  },
);
const flagged = task(
  { name: "failure-control.flagged", retry: 3, retryDelay: 0 },
  (token: string): string => {
    attempt(token);
    throw Object.assign(new Error("account deleted"), { unrecoverable: true });
  },
);
/** Fails normally once, then unrecoverably. */
const unrecoverableSecond = task(
  { name: "failure-control.unrecoverableSecond", retry: 5, retryDelay: 0 },
  (token: string): string => {
    if (attempt(token) === 1) throw new Error("transient");
    throw new UnrecoverableError("gave up");
  },
);
/** `unrecoverable` set to something other than `true`: an ordinary failure. */
const notFlagged = task(
  { name: "failure-control.notFlagged", retry: 2, retryDelay: 0 },
  (token: string): string => {
    attempt(token);
    throw Object.assign(new Error("maybe"), { unrecoverable: "yes" });
  },
);

const fixed = task(
  { name: "failure-control.fixed", retry: 3, retryDelay: { type: "fixed", delay: 30 } },
  alwaysFail,
);
const exponential = task(
  {
    name: "failure-control.exponential",
    retry: 5,
    retryDelay: { type: "exponential", delay: 1, factor: 3, max: 20 },
  },
  alwaysFail,
);
const exponentialDefaultFactor = task(
  {
    name: "failure-control.exponentialDefault",
    retry: 4,
    retryDelay: { type: "exponential", delay: 2, max: 10 },
  },
  alwaysFail,
);
const fullJitter = task(
  {
    name: "failure-control.fullJitter",
    retry: 1,
    retryDelay: { type: "fixed", delay: 10, jitter: "full" },
  },
  alwaysFail,
);
const equalJitter = task(
  {
    name: "failure-control.equalJitter",
    retry: 1,
    retryDelay: { type: "fixed", delay: 10, jitter: "equal" },
  },
  alwaysFail,
);
const exponentialJitter = task(
  {
    name: "failure-control.exponentialJitter",
    retry: 4,
    retryDelay: { type: "exponential", delay: 4, max: 10, jitter: "full" },
  },
  alwaysFail,
);

const listDelay = task({ name: "failure-control.list", retry: 4, retryDelay: [1, 5] }, alwaysFail);
const numberDelay = task({ name: "failure-control.number", retry: 2, retryDelay: 7 }, alwaysFail);

/** What the backoff function was called with, per token. */
const backoffCalls = new PerTest<[number, string][]>(() => []);
const byFunction = task(
  {
    name: "failure-control.function",
    retry: 3,
    retryDelay: (n: number, error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      backoffCalls.get(message.split(" ")[0] ?? "").push([n, message]);
      return n * 5;
    },
  },
  (token: string): string => {
    throw new Error(`${token} failure #${attempt(token)}`);
  },
);
const throwingBackoff = task(
  {
    name: "failure-control.throwingBackoff",
    retry: 3,
    retryDelay: () => {
      throw new Error("no idea");
    },
  },
  alwaysFail,
);
const negativeBackoff = task(
  { name: "failure-control.negativeBackoff", retry: 3, retryDelay: () => -1 },
  alwaysFail,
);

const promiseBackoff = task(
  {
    name: "failure-control.promiseBackoff",
    retry: 3,
    // An async function, as a user might write by mistake: its promise rejects, unawaited.
    retryDelay: (async () => {
      throw new Error("later");
    }) as unknown as () => number,
  },
  alwaysFail,
);

/** Milliseconds between `lastRetryAt` and `nextRetryAt` of a retrying record. */
const delayOf = (t: Task) => t.nextRetryAt!.getTime() - t.lastRetryAt!.getTime();

/** Where test clocks start: far from the real time, so nothing can pass by accident. */
const CLOCK_START = Date.parse("2030-01-01T08:00:00.000Z");

export function failureControlCases(h: ContractHarness): void {
  /** Runs one task of `factory` on a test clock until it has failed for good; the delay of each retry, in ms. */
  async function delaysUntilFailed(
    factory: TaskFactory<[string], string>,
    token: string = randomUUID(),
  ): Promise<{ delays: number[]; final: Task }> {
    const clock = new TestClock(CLOCK_START);
    const queue = h.queue({ clock });
    const t = factory(token);
    await queue.add(t);
    const worker = h.worker(queue, { clock, schedulerInterval: 1 });
    const delays: number[] = [];
    worker.on("task:retrying", ({ task: r }) => delays.push(delayOf(r)));
    const running = worker.work({ maxTasks: factory.config.retry + 1 });
    const final = await advanceUntil(
      clock,
      async () => {
        const stored = await queue.getTask(t);
        return stored?.status === "failed" ? stored : null;
      },
      { step: 2, what: `${factory.taskName} failed for good` },
    );
    await running;
    return { delays, final };
  }

  /** Adds `count` tasks of `factory` and runs each once: the delay of each one's first retry, in ms. */
  async function firstDelays(factory: TaskFactory<[string], string>, count: number) {
    const queue = h.queue();
    await queue.add(Array.from({ length: count }, () => factory(randomUUID())));
    const worker = h.worker(queue);
    const delays: number[] = [];
    worker.on("task:retrying", ({ task: r }) => delays.push(delayOf(r)));
    await worker.work({ maxTasks: count });
    expect(delays).toHaveLength(count);
    return delays;
  }

  describe("failure control", () => {
    it("FC-1 an UnrecoverableError fails at once: handler ran once, retryCount 0, status failed, the stored error says unrecoverable", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = unrecoverable(token);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 1, retried: 0 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.retryCount).toBe(0);
      expect(failed.nextRetryAt).toBeNull();
      expect(failed.finishedAt).not.toBeNull();
      expect(attempts.get(token).count).toBe(1);
      expect(failed.error?.type).toBe("UnrecoverableError");
      expect(failed.error?.message).toBe("card declined");
      expect(failed.error?.props?.unrecoverable).toBe(true);
      expect(failed.error?.cause?.message).toBe("HTTP 402");
      expect(failed.error?.toError()).toBeInstanceOf(UnrecoverableError);
    });

    it("FC-1 an error with an own `unrecoverable: true` counts the same; any other value is an ordinary failure", async () => {
      const queue = h.queue();
      const [a, b] = [randomUUID(), randomUUID()];
      const [one, other] = [flagged(a), notFlagged(b)];
      await queue.add([one, other]);
      await h.worker(queue).work({ oneshot: true });
      const [x, y] = await queue.getTask([one, other]);
      expect([x?.status, x?.retryCount, x?.error?.props?.unrecoverable]).toEqual([
        "failed",
        0,
        true,
      ]);
      expect(attempts.get(a).count).toBe(1);
      expect([y?.status, y?.retryCount]).toEqual(["failed", 2]);
      expect(attempts.get(b).count).toBe(3);
    });

    it("FC-1 an UnrecoverableError after a retry ends the task; the retries already spent stay counted", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = unrecoverableSecond(token);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ failed: 1, retried: 1 });
      const failed = (await queue.getTask(t))!;
      expect([failed.status, failed.retryCount, failed.error?.message]).toEqual([
        "failed",
        1,
        "gave up",
      ]);
      expect(attempts.get(token).count).toBe(2);
    });

    it("FC-2 fixed: the same delay before every retry", async () => {
      const { delays, final } = await delaysUntilFailed(fixed);
      expect(delays).toEqual([30_000, 30_000, 30_000]);
      expect(final.retryCount).toBe(3);
    });

    it("FC-3 exponential: delay × factor^(n−1), capped at max", async () => {
      expect((await delaysUntilFailed(exponential)).delays).toEqual([
        1_000, 3_000, 9_000, 20_000, 20_000,
      ]);
      expect((await delaysUntilFailed(exponentialDefaultFactor)).delays).toEqual([
        2_000, 4_000, 8_000, 10_000,
      ]);
    });

    it("FC-4 full jitter: each delay within [0, delay], and they differ", async () => {
      const delays = await firstDelays(fullJitter, 12);
      for (const d of delays) {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(10_000);
      }
      expect(new Set(delays).size).toBeGreaterThan(1);
    });

    it("FC-4 equal jitter: each delay within [delay/2, delay]", async () => {
      const delays = await firstDelays(equalJitter, 12);
      for (const d of delays) {
        expect(d).toBeGreaterThanOrEqual(5_000);
        expect(d).toBeLessThanOrEqual(10_000);
      }
      expect(new Set(delays).size).toBeGreaterThan(1);
    });

    it("FC-4 jitter on an exponential strategy spreads the capped delay", async () => {
      const { delays } = await delaysUntilFailed(exponentialJitter);
      const caps = [4_000, 8_000, 10_000, 10_000];
      expect(delays).toHaveLength(4);
      delays.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(caps[i]!);
      });
    });

    it("FC-5 a function gets (attempt, error) and its seconds are the delay", async () => {
      const token = randomUUID();
      const { delays, final } = await delaysUntilFailed(byFunction, token);
      expect(delays).toEqual([5_000, 10_000, 15_000]);
      expect(backoffCalls.get(token)).toEqual([
        [1, `${token} failure #1`],
        [2, `${token} failure #2`],
        [3, `${token} failure #3`],
      ]);
      expect(final.retryCount).toBe(3);
      expect(final.config.retryDelay).toEqual({ type: "function" });
    });

    it("FC-5 a function that throws or returns a bad value fails the task, saying so", async () => {
      const queue = h.queue();
      const [a, b] = [throwingBackoff(randomUUID()), negativeBackoff(randomUUID())];
      await queue.add([a, b]);
      await h.worker(queue).work({ oneshot: true });
      const [x, y] = await queue.getTask([a, b]);
      expect(x?.status).toBe("failed");
      expect(x?.error?.message).toMatch(/retryDelay function threw \(Error: no idea\)/);
      expect(y?.status).toBe("failed");
      expect(y?.error?.message).toMatch(/retryDelay function returned -1/);
    });

    it("FC-5 a faulty function's task fails without a retry: one line says why, the attempt's error is its cause, task:failed carries what is stored", async () => {
      const queue = h.queue();
      const tasks = [throwingBackoff, negativeBackoff, promiseBackoff].map((f) => f(randomUUID()));
      await queue.add(tasks);
      const worker = h.worker(queue);
      const emitted = new Map<string, unknown>();
      worker.on("task:failed", ({ task, error }) => emitted.set(task.id, error));
      await worker.work({ oneshot: true });
      const faults = [
        "threw (Error: no idea)",
        "returned -1, not a number of seconds ≥ 0 and ≤ 315360000 (10 years)",
        "returned a promise, not a number of seconds ≥ 0 and ≤ 315360000 (10 years)",
      ];
      const stored = await queue.getTask(tasks);
      stored.forEach((t, i) => {
        expect([t?.status, t?.retryCount, t?.error?.type]).toEqual(["failed", 0, "SheppyError"]);
        expect(t?.error?.cause?.toString()).toBe("Error: failure #1");
        expect(t?.error?.message).toBe(
          `task '${t?.name}': its retryDelay function ${faults[i]}, so the task failed without a retry (its attempt failed with Error: failure #1)`,
        );
        const event = emitted.get(t!.id) as Error;
        expect([event?.name, event?.message]).toEqual([t?.error?.type, t?.error?.message]);
        expect(String(event?.cause)).toBe("Error: failure #1");
      });
    });

    it("FC-6 numbers and lists keep working: a list's last value repeats, a number applies to every retry", async () => {
      expect((await delaysUntilFailed(listDelay)).delays).toEqual([1_000, 5_000, 5_000, 5_000]);
      expect((await delaysUntilFailed(numberDelay)).delays).toEqual([7_000, 7_000]);
    });

    it("FC-6 every strategy's stored form reads back as written; numbers and lists unchanged", async () => {
      const queue = h.queue();
      const tasks = [fixed, exponential, fullJitter, byFunction].map((f) => f(randomUUID()));
      await queue.add(tasks);
      const stored = await queue.getTask(tasks);
      expect(stored.map((s) => s?.config.retryDelay)).toEqual([
        { type: "fixed", delay: 30, jitter: "none" },
        { type: "exponential", delay: 1, factor: 3, max: 20, jitter: "none" },
        { type: "fixed", delay: 10, jitter: "full" },
        { type: "function" },
      ]);
      expect(fixed.config.retryDelay).toEqual({ type: "fixed", delay: 30, jitter: "none" });
    });
  });
}
