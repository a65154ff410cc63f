/**
 * The rate gate a claimed task passes before it runs (RL-2): the backend
 * request it makes, the `scheduled` record of a task put off, what happens
 * when the check itself fails, and the memory backend's instant processing
 * honouring limits too (RL-11, decided: limits hold everywhere).
 */
import { MemoryBackend, Queue, type TaskData, task } from "sheppy";
import type { Backend, RateLimitRequest, Settlement } from "sheppy/backend";
import { TestClock } from "sheppy/testing";
import { afterEach, describe, expect, it } from "vitest";
import { AttemptPipeline } from "../../src/execution/attempt-pipeline.js";
import { createExecutionEnvironment } from "../../src/execution/execution-environment.js";
import { deferredRecord } from "../../src/execution/outcome.js";
import {
  passRateLimit,
  RATE_CHECK_FAILED_DELAY_MS,
  RATE_SLOT_META_KEY,
  rateLimitRequest,
} from "../../src/execution/rate-gate.js";

const NOW = Date.parse("2030-01-01T00:00:00Z");
const limited = task(
  { name: "rate-gate.limited", rateLimit: { maxRate: 2, ratePeriod: 5 } },
  (n: number) => n,
);
const fixedKeyed = task(
  {
    name: "rate-gate.fixed-keyed",
    rateLimit: { maxRate: 1, ratePeriod: 0.25, key: "tenant-1", strategy: "fixed_window" },
  },
  () => "ok",
);
const free = task({ name: "rate-gate.free" }, () => "ok");

const claimed = (data: TaskData): TaskData => ({
  ...data,
  status: "processing",
  startedAt: new Date(NOW).toISOString(),
});

/** A backend stand-in that answers acquireRateLimit from a script and records the requests. */
function scriptedBackend(answers: (number | null | Error)[]) {
  const requests: RateLimitRequest[] = [];
  const backend = {
    retention: { ttl: null, errorTtl: null, maxFinished: null, maxFailed: null },
    async acquireRateLimit(_queue: string, request: RateLimitRequest) {
      requests.push(request);
      const answer = answers.shift() ?? null;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Backend;
  return { backend, requests };
}

describe("rateLimitRequest", () => {
  it("is null for a task without a limit, so unlimited tasks never reach the backend", () => {
    expect(rateLimitRequest(free().toJSON(), NOW)).toBeNull();
  });

  it("RL-1 carries the limit in ms, the key (default: the task name), the strategy and the caller's now", () => {
    const a = limited(1).toJSON();
    expect(rateLimitRequest(a, NOW)).toEqual({
      key: "rate-gate.limited",
      maxRate: 2,
      periodMs: 5000,
      taskId: a.id,
      strategy: "sliding_window",
      now: NOW,
    });
    expect(rateLimitRequest(fixedKeyed().toJSON(), NOW)).toMatchObject({
      key: "tenant-1",
      periodMs: 250,
      strategy: "fixed_window",
    });
  });
});

describe("passRateLimit", () => {
  it("RL-2 admitted → null; over the limit → the record scheduled at now + wait, not started, the slot kept in its meta, nothing else changed", async () => {
    const { backend } = scriptedBackend([null, 1234]);
    const data = claimed(limited(1).toJSON());
    expect(await passRateLimit(backend, "q", data, NOW)).toBeNull();
    const deferred = await passRateLimit(backend, "q", data, NOW);
    const slot = new Date(NOW + 1234).toISOString();
    expect(deferred).toEqual({
      ...data,
      status: "scheduled",
      scheduledAt: slot,
      startedAt: null,
      meta: { ...data.meta, [RATE_SLOT_META_KEY]: slot },
    });
  });

  it("a task claimed at the slot it was told asks as one back at its slot; one whose time moved since (a retry, a reschedule) asks afresh", async () => {
    const { backend, requests } = scriptedBackend([1234, 500, 500]);
    const data = claimed(limited(3).toJSON());
    expect(rateLimitRequest(data, NOW)).not.toHaveProperty("atSlot");
    const deferred = (await passRateLimit(backend, "q", data, NOW))!;
    // Made pending and claimed again at its slot: its scheduledAt is still the slot.
    const back = claimed(deferred);
    await passRateLimit(backend, "q", back, NOW + 1234);
    expect(requests[1]).toMatchObject({ atSlot: true, now: NOW + 1234 });
    const moved = claimed({ ...deferred, scheduledAt: new Date(NOW + 9000).toISOString() });
    await passRateLimit(backend, "q", moved, NOW + 9000);
    expect(requests[2]).not.toHaveProperty("atSlot");
  });

  it("a failed check puts the task off for a second (never runs it unchecked, never drops it) and reports the error", async () => {
    const outage = new Error("connection lost");
    const { backend } = scriptedBackend([outage]);
    const errors: unknown[] = [];
    const data = claimed(limited(2).toJSON());
    const deferred = await passRateLimit(backend, "q", data, NOW, (e) => errors.push(e));
    expect(deferred?.status).toBe("scheduled");
    expect(deferred?.scheduledAt).toBe(new Date(NOW + RATE_CHECK_FAILED_DELAY_MS).toISOString());
    expect(errors).toEqual([outage]);
  });
});

describe("the attempt pipeline's rate gate", () => {
  it("asks in claim order, admits some, and settles the others back for their slot (not an attempt)", async () => {
    const { backend, requests } = scriptedBackend([null, 500, null]);
    const settled: Settlement[] = [];
    const clock = new TestClock(NOW);
    const pipeline = new AttemptPipeline({
      queue: "q",
      store: backend,
      environment: createExecutionEnvironment("q", {
        clock,
        middleware: [],
        dependencyOverrides: undefined,
      }),
      settle: async (settlement) => {
        settled.push(settlement);
        return "settled";
      },
    });
    const claims = [limited(1), limited(2), limited(3), free()].map((t, i) => ({
      record: claimed(t.toJSON()),
      fence: i + 1,
    }));
    const { admitted, deferredCount, deferrals } = await pipeline.admit(claims);
    await deferrals;
    expect(requests.map((r) => r.taskId)).toEqual(claims.slice(0, 3).map((c) => c.record.id));
    expect(admitted).toEqual([claims[0], claims[2], claims[3]]);
    expect(deferredCount).toBe(1);
    expect(settled).toEqual([
      {
        fence: 2,
        record: (() => {
          const record = deferredRecord(claims[1]!.record, NOW, 500);
          return { ...record, meta: { ...record.meta, [RATE_SLOT_META_KEY]: record.scheduledAt } };
        })(),
        children: [],
        expiresAt: null,
      },
    ]);
  });
});

describe("RL-11 memory backend with instant processing honours rate limits", () => {
  const queues: Queue[] = [];
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
  });

  it("two of three run inside add; the third waits for its slot and runs when the clock gets there", async () => {
    const clock = new TestClock(NOW);
    const queue = new Queue(new MemoryBackend({ clock }), { name: "instant-limited", clock });
    queues.push(queue);
    const tasks = [limited(1), limited(2), limited(3)];
    await queue.add(tasks);
    const [a, b, c] = await queue.getTask(tasks);
    expect([a?.status, b?.status, c?.status]).toEqual(["completed", "completed", "scheduled"]);
    expect(c?.scheduledAt?.getTime()).toBe(NOW + 5000);
    await clock.advance(4.99);
    expect((await queue.getTask(tasks[2]!))?.status).toBe("scheduled");
    await clock.advance(0.01);
    const done = await queue.waitFor(tasks[2]!, { timeout: 0 });
    expect(done.result).toBe(3);
    expect(done.startedAt?.getTime()).toBe(NOW + 5000);
  });
});
