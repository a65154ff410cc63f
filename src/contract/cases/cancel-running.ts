/**
 * Cancelling a running task (`cancel(task, { force: true })`): the record is
 * `cancelled` at once and its claim ends — the holder's renewal reports it
 * lost, its settle writes nothing, its concurrency slot and its place under
 * a queue cap are free — and the holder fires the task's AbortSignal with a
 * `TaskCancelledError`, discarding whatever the function returns.
 */

import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { STARTED_HOLD_MS } from "../../execution/event-publisher.js";
import {
  currentTask,
  InvalidOptionError,
  step,
  TaskCancellationError,
  TaskCancelledError,
  type TaskData,
  task,
  workflow,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { logOf } from "../support/event-log.js";
import { finishedRecord, settleClaim } from "../support/records.js";
import { PerTest, sleep, until } from "../support/until.js";

const item = task({ name: "cancel-running.item" }, (n: number) => n);
const data = (n: number, key?: string): TaskData => ({
  ...item(n).toJSON(),
  status: "pending",
  ...(key === undefined ? {} : { concurrencyKey: key, concurrencyLimit: 1 }),
});
const HOUR = 3_600_000;

/** What each test's running task saw: the reason its signal fired with, and whether it returned. */
const seen = new PerTest(() => ({ started: 0, reasons: [] as unknown[], returned: 0 }));

/** Runs until its signal fires (then returns anyway, as a task that ignores the reason might), or 10 s. */
const longRunning = task({ name: "cancel-running.long" }, async (token: string) => {
  const state = seen.get(token);
  state.started++;
  const { signal } = currentTask();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    signal.addEventListener(
      "abort",
      () => {
        state.reasons.push(signal.reason);
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
  state.returned++;
  return "finished anyway";
});
const quick = task({ name: "cancel-running.quick" }, (n: number) => n * 2);
/** Its first step runs until cancelled; the second would follow it. */
const longFlow = workflow({ name: "cancel-running.long-flow" }, function* (token: string) {
  yield* step(longRunning(token));
  yield* step(quick(1));
  return "went on";
});

/** What each test's two-attempt task saw, per attempt: abort reasons, and whether it started. */
const attempts = new PerTest(() => ({
  started: [] as number[],
  reasons: new Map<number, unknown>(),
}));

/**
 * Its first attempt runs on 300 ms past its signal (ignoring it, as some
 * code does) and returns "old"; a later attempt returns "new" at once.
 */
const twoRuns = task({ name: "cancel-running.two-runs" }, async (token: string) => {
  const state = attempts.get(token);
  const { attempt, signal } = currentTask();
  state.started.push(attempt);
  signal.addEventListener("abort", () => state.reasons.set(attempt, signal.reason), {
    once: true,
  });
  if (attempt > 1) return "new";
  while (!signal.aborted) await sleep(10);
  await sleep(300);
  return "old";
});

/** What each test's stubborn task saw: whether it started, and whether it returned. */
const stubbornRuns = new PerTest(() => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, released, started: 0, returned: 0 };
});
/** Ignores its signal: it returns only when the test releases it. */
const stubborn = task({ name: "cancel-running.stubborn" }, async (token: string) => {
  const state = stubbornRuns.get(token);
  state.started++;
  await state.released;
  state.returned++;
  return "finished anyway";
});

/** Each test's gate: a task waits until the test opens it. */
const gates = new PerTest(() => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened, ran: [] as number[] };
});
const gatedRun = task({ name: "cancel-running.gated" }, async (token: string, n: number) => {
  const gate = gates.get(token);
  gate.ran.push(n);
  await gate.opened;
  return n;
});

export function cancelRunningCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
  });

  describe("backend: cancelling a claimed task", () => {
    it("C-5 cancel without `running` leaves a claimed task alone; with it, the record is cancelled (its start kept), its renewal is lost and its settle writes nothing", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.add(q, [d]);
      const [claim] = await backend.claim(q, 1);
      const at = Date.now();
      expect(await backend.cancel(q, d.id, { at, expiresAt: null })).toBeNull();
      const cancelled = await backend.cancel(q, d.id, {
        at,
        expiresAt: at + HOUR,
        running: true,
      });
      expect(cancelled?.status).toBe("cancelled");
      expect(cancelled?.finishedAt).toBe(new Date(at).toISOString());
      expect(cancelled?.startedAt).toBe(claim!.record.startedAt);
      expect(await backend.renew(q, [{ id: d.id, fence: claim!.fence }])).toEqual([d.id]);
      expect(await settleClaim(backend, q, claim!, finishedRecord(claim!.record))).toBe("lost");
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(cancelled);
      const stats = await backend.getStats(q);
      expect([stats.processing, stats.cancelled, stats.completed]).toEqual([0, 1, 0]);
      expect(await backend.reclaimExpired(q, { leaseMs: 0, confirmMs: 0 })).toEqual([]);
      expect(await backend.claim(q, 1)).toEqual([]);
      // A second cancel finds it finished.
      expect(await backend.cancel(q, d.id, { at, expiresAt: null, running: true })).toBeNull();
      expect(await backend.pruneExpired(q, at + HOUR)).toBe(1);
    });

    /** Of `first` and `second` added, only `first` can be claimed; once it is cancelled while claimed, `second` is. */
    const cancelMakesRoom = async (
      backend: Backend,
      q: string,
      first: TaskData,
      second: TaskData,
    ) => {
      await backend.add(q, [first, second]);
      const [claim] = await backend.claim(q, 2);
      expect(claim?.record.id).toBe(first.id);
      expect(await backend.claim(q, 1)).toEqual([]);
      await backend.cancel(q, first.id, { at: Date.now(), expiresAt: null, running: true });
      const [next] = await backend.claim(q, 1);
      expect(next?.record.id).toBe(second.id);
      expect(await settleClaim(backend, q, next!)).toBe("settled");
    };

    it("C-5 cancelling a claimed task frees its concurrency key's slot: the task held for it becomes claimable", async () => {
      const { backend, q } = await setup();
      await cancelMakesRoom(backend, q, data(1, "k"), data(2, "k"));
    });

    it("C-5 cancelling a claimed task makes room under the queue's cap", async () => {
      const { backend, q } = await setup();
      await backend.setConcurrencyLimit(q, 1);
      await cancelMakesRoom(backend, q, data(1), data(2));
    });

    it("CR-7 a task cancelled while claimed, deleted and added again under its id: its first holder's settle and renewal are refused, whatever the new claim's fence", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.add(q, [d]);
      const [old] = await backend.claim(q, 1);
      await backend.cancel(q, d.id, { at: Date.now(), expiresAt: null, running: true });
      expect(await backend.deleteTask(q, d.id)).toBe(true);
      await backend.add(q, [d]);
      const [fresh] = await backend.claim(q, 1);
      expect(fresh?.record.id).toBe(d.id);
      expect(await backend.renew(q, [{ id: d.id, fence: old!.fence }])).toEqual([d.id]);
      expect(await settleClaim(backend, q, old!, finishedRecord(old!.record, "failed"))).toBe(
        "lost",
      );
      expect((await backend.getTasks(q, [d.id])).get(d.id)?.status).toBe("processing");
      expect(await settleClaim(backend, q, fresh!)).toBe("settled");
      expect((await backend.getTasks(q, [d.id])).get(d.id)?.status).toBe("completed");
    });

    it("C-8 a racing cancel of a claimed task and its settle: exactly one wins, and the record is the winner's", async () => {
      const { backend, q } = await setup();
      for (let round = 0; round < 10; round++) {
        const d = data(round);
        await backend.add(q, [d]);
        const [claim] = await backend.claim(q, 1);
        const [cancelled, settled] = await Promise.all([
          backend.cancel(q, d.id, { at: Date.now(), expiresAt: null, running: true }),
          settleClaim(backend, q, claim!),
        ]);
        expect(Number(cancelled !== null) + Number(settled === "settled"), `round ${round}`).toBe(
          1,
        );
        const stored = (await backend.getTasks(q, [d.id])).get(d.id);
        expect(stored?.status, `round ${round}`).toBe(cancelled ? "cancelled" : "completed");
      }
    });
  });

  describe("cancelling a running task", () => {
    it("C-5 cancel(task, { force: true }) of a running task: cancelled at once, its signal fires with TaskCancelledError, its outcome is discarded, and the worker goes on", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = longRunning(token);
      await queue.add(t);
      const worker = h.worker(queue, { heartbeatInterval: 0.1, leaseTimeout: 5 });
      const started = once(worker, "task:started");
      const working = worker.work();
      await started;
      await expect(queue.cancel(t)).rejects.toThrow(TaskCancellationError);
      const cancelled = await queue.cancel(t, { force: true });
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.startedAt).toBeInstanceOf(Date);
      expect(cancelled.result).toBeNull();
      const state = seen.get(token);
      await until(() => state.returned === 1, { what: "the cancelled task's signal to fire" });
      expect(state.reasons).toHaveLength(1);
      expect(state.reasons[0]).toBeInstanceOf(TaskCancelledError);
      expect((state.reasons[0] as Error).message).toContain(t.id);
      // The worker is still working: a task added now runs.
      const next = quick(21);
      await queue.add(next);
      expect((await queue.waitFor(next, { timeout: 10 })).result).toBe(42);
      await sleep(50);
      const stored = await queue.getTask(t);
      expect(stored?.status).toBe("cancelled");
      expect(stored?.result).toBeNull();
      expect(state.started).toBe(1);
      await worker.close();
      await working;
    });

    it("C-5 cancelWorkflow(wf, { force: true }) also cancels its running step: the step's signal fires, the step and the workflow end cancelled, and no later step is added", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const worker = h.worker(queue, { heartbeatInterval: 0.1, leaseTimeout: 5 });
      const working = worker.work();
      const wf = await queue.addWorkflow(longFlow(token));
      const state = seen.get(token);
      await until(() => state.started === 1, { what: "the workflow's first step to start" });
      await expect(queue.cancelWorkflow(wf, { force: "yes" as never })).rejects.toThrow(
        InvalidOptionError,
      );
      const cancelled = await queue.cancelWorkflow(wf, { force: true });
      expect(cancelled.status).toBe("cancelled");
      await until(() => state.returned === 1, { what: "the running step's signal to fire" });
      expect(state.reasons[0]).toBeInstanceOf(TaskCancelledError);
      const stored = await queue.getWorkflow(wf);
      expect(stored?.status).toBe("cancelled");
      const steps = await queue.getWorkflowSteps(wf);
      expect(steps.map((s) => s?.status)).toEqual(["cancelled"]);
      await sleep(200);
      expect((await queue.getWorkflowSteps(wf)).map((s) => s?.status)).toEqual(["cancelled"]);
      await worker.close();
      await working;
    });

    h.itIfInline("it runs its tasks through a worker, not inline")(
      "C-5 a task running inline (instant processing) is signalled at once when cancelled with force",
      async () => {
        const queue = h.queue({ instantProcessing: true });
        const token = randomUUID();
        const t = longRunning(token);
        const adding = queue.add(t);
        const state = seen.get(token);
        await until(() => state.started === 1, { what: "the inline task to start" });
        const cancelled = await queue.cancel(t, { force: true });
        expect(cancelled.status).toBe("cancelled");
        await adding;
        expect(state.reasons[0]).toBeInstanceOf(TaskCancelledError);
        expect((await queue.getTask(t))?.status).toBe("cancelled");
      },
    );

    it("C-5 a task cancelled with force and re-run at once while its first attempt still runs: the first is signalled as cancelled and discarded, the re-run's outcome is stored", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = twoRuns(token);
      await queue.add(t);
      const worker = h.worker(queue, { heartbeatInterval: 0.1, leaseTimeout: 5, concurrency: 2 });
      const working = worker.work();
      const state = attempts.get(token);
      await until(() => state.started.length === 1, { what: "the first attempt to start" });
      await queue.cancel(t, { force: true });
      expect(await queue.retry(t)).toBe(true);
      await until(() => state.reasons.has(1), { what: "the first attempt's signal" });
      expect(state.reasons.get(1)).toBeInstanceOf(TaskCancelledError);
      // The first attempt ends 300 ms after its signal, and is discarded.
      await sleep(600);
      const done = await queue.waitFor(t, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", "new"]);
      expect(state.started).toEqual([1, 2]);
      expect(state.reasons.has(2)).toBe(false);
      await worker.close();
      await working;
    });

    it("EV-37 a task cancelled with force moments after it started: nothing of its attempt follows its `cancelled` in the event log", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const token = randomUUID();
      const t = longRunning(token);
      await queue.add(t);
      // The worker hears of the cancel at its next renewal, after its `started` went out on its own.
      const worker = h.worker(queue, { heartbeatInterval: 1, leaseTimeout: 5 });
      const started = once(worker, "task:started");
      const working = worker.work();
      await started;
      // Within the moment a worker holds an attempt's `started` back for its settle.
      await queue.cancel(t, { force: true });
      const state = seen.get(token);
      await until(() => state.returned === 1, { what: "the cancelled task's signal to fire" });
      await sleep(STARTED_HOLD_MS);
      const types = (await logOf(backend, queue.name))
        .filter((event) => event.taskId === t.id)
        .map((event) => event.type);
      expect(types[0]).toBe("added");
      expect(types.at(-1)).toBe("cancelled");
      expect(types.filter((type) => type === "cancelled")).toHaveLength(1);
      await worker.close();
      await working;
    });

    it("C-5 a worker closing after a task was cancelled while it ran puts nothing back and counts nothing interrupted", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = twoRuns(token);
      await queue.add(t);
      const worker = h.worker(queue, {
        heartbeatInterval: 0.1,
        leaseTimeout: 5,
        shutdownTimeout: 0.05,
      });
      const working = worker.work();
      const state = attempts.get(token);
      await until(() => state.started.length === 1, { what: "the attempt to start" });
      await queue.cancel(t, { force: true });
      await until(() => state.reasons.has(1), { what: "its signal" });
      await worker.close();
      expect((await working).interrupted).toBe(0);
      expect((await queue.getTask(t))?.status).toBe("cancelled");
      expect(await queue.size()).toBe(0);
    });

    for (const how of ["cancelled with force", "deleted by clear()"] as const) {
      it(`C-5 a worker closing after its running task was ${how} does not wait its shutdownTimeout for the function, which ignores its signal`, async () => {
        const queue = h.queue();
        const token = randomUUID();
        const t = stubborn(token);
        await queue.add(t);
        let heard!: () => void;
        const lost = new Promise<void>((resolve) => {
          heard = resolve;
        });
        // The worker learns at a renewal that the claim is gone, and says so.
        const logger = {
          debug: () => undefined,
          info: (_: unknown, msg?: string) => {
            if (msg?.includes("cancelled")) heard();
          },
          warn: (_: unknown, msg?: string) => {
            if (msg?.includes("no longer this worker's")) heard();
          },
          error: () => undefined,
        };
        const worker = h.worker(queue, {
          heartbeatInterval: 0.1,
          leaseTimeout: 5,
          shutdownTimeout: 60,
          logger,
        });
        const working = worker.work();
        const state = stubbornRuns.get(token);
        try {
          await until(() => state.started === 1, { what: "the task to start" });
          if (how === "cancelled with force") await queue.cancel(t, { force: true });
          else await queue.clear();
          await lost;
          // Resolves while the function still runs: its outcome has nowhere to go.
          await worker.close();
          expect(state.returned).toBe(0);
          expect((await working).interrupted).toBe(0);
          expect(await queue.size()).toBe(0);
        } finally {
          state.release();
        }
      });
    }

    h.itIfInline("it runs its tasks through a worker, not inline")(
      "C-5 a task claimed inline but not started yet, cancelled with force, never runs",
      async () => {
        const queue = h.queue({ instantProcessing: true });
        const token = randomUUID();
        const gate = gates.get(token);
        const [first, second] = [gatedRun(token, 1), gatedRun(token, 2)];
        const adding = queue.add([first, second]);
        await until(() => gate.ran.length === 1, { what: "the first task to start" });
        expect((await queue.cancel(second, { force: true })).status).toBe("cancelled");
        gate.open();
        await adding;
        expect(gate.ran).toEqual([1]);
        expect((await queue.getTask(second))?.status).toBe("cancelled");
        expect((await queue.getTask(first))?.status).toBe("completed");
      },
    );

    it("cancel() refuses options it does not know, and a force that is not a boolean", async () => {
      const queue = h.queue();
      const t = quick(1);
      await expect(queue.cancel(t, { forse: true } as never)).rejects.toThrow(
        /queue\.cancel\(\): unknown option 'forse'/,
      );
      await expect(queue.cancel(t, { force: "yes" } as never)).rejects.toThrow(
        /queue\.cancel\(\): option force must be true or false, got "yes"/,
      );
    });
  });
}
