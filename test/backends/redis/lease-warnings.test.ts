/**
 * A single worker never warns that it lost tasks it did not lose: a renewal
 * racing with the settle of the same attempt reports nothing, because the
 * backend knows that claim was settled by its own holder. A claim that
 * another holder did take over is reported once and no longer renewed, not
 * warned about at every heartbeat while the function goes on.
 */
import { Redis } from "ioredis";
import { currentTask, Queue, task, Worker } from "sheppy";
import type { ClaimRef } from "sheppy/backend";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
/** Counts the renewals this worker sends for each task. */
class CountingRenewals extends RedisBackend {
  readonly #renewals = new Map<string, number>();

  renewalsOf(id: string): number {
    return this.#renewals.get(id) ?? 0;
  }

  override renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]> {
    for (const { id } of claims) this.#renewals.set(id, this.renewalsOf(id) + 1);
    return super.renew(queue, claims);
  }
}

let started: (id: string) => void = () => undefined;
let returned: () => void = () => undefined;
let abortedWhileRunning = false;
const stubborn = task({ name: "lease-warnings.stubborn" }, async () => {
  const { id, signal } = currentTask();
  started(id);
  // Goes on after its claim is lost, as a function that does not watch its signal would.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  abortedWhileRunning = signal.aborted;
  returned();
  return null;
});
const quick = task({ name: "lease-warnings.quick" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, n % 3));
  return n;
});

describe.skipIf(!available)("redis: lease warnings", () => {
  afterAll(() => deleteRedisPrefix(prefix));

  it("3,000 short tasks with a renewal every 50 ms: no warning of a lost claim, none reclaimed", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "warnings" });
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (objOrMsg: object | string, msg?: string) => {
        warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
      },
      error: (objOrMsg: object | string, msg?: string) => {
        warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
      },
    };
    const tasks = Array.from({ length: 3000 }, (_, i) => quick(i));
    for (let i = 0; i < tasks.length; i += 500) await queue.add(tasks.slice(i, i + 500));
    const summary = await new Worker(queue, {
      concurrency: 50,
      heartbeatInterval: 0.05,
      leaseTimeout: 1,
      reclaimInterval: 0.05,
      claimWait: 0.1,
      logger,
    }).work({ oneshot: true });
    expect(summary).toMatchObject({ processed: 3000, reclaimed: 0 });
    expect(warnings).toEqual([]);
    await queue.close();
  }, 60_000);

  it("a claim taken over by another holder is warned about once and renewed no more, while its function runs on", async () => {
    const backend = new CountingRenewals({ url: REDIS_URL, prefix });
    const queue = new Queue(backend, { name: "taken" });
    const raw = new Redis(REDIS_URL);
    const warnings: string[] = [];
    const note = (objOrMsg: object | string, msg?: string) =>
      warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
    const logger = { debug: () => undefined, info: () => undefined, warn: note, error: note };
    const running = new Promise<string>((resolve) => {
      started = resolve;
    });
    const ended = new Promise<void>((resolve) => {
      returned = resolve;
    });
    await queue.add(stubborn());
    const worker = new Worker(queue, {
      heartbeatInterval: 0.05,
      leaseTimeout: 60,
      reclaimInterval: 60,
      claimWait: 0.1,
      logger,
    });
    const work = worker.work();
    const id = await running;
    // Another holder's claim, as a takeover writes it: the task's fence moves on, in its hash
    // and in the fences listed beside the processing index, so this worker's renewals and its
    // settle are refused.
    const fence = await raw.hincrby(`{${prefix}:taken}:t:${id}`, "f", 1);
    await raw.hset(`{${prefix}:taken}:processing:fences`, id, `${fence}r`);
    const before = backend.renewalsOf(id);
    // About twelve heartbeats while the function still runs.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const renewals = backend.renewalsOf(id) - before;
    // The function returns while the worker runs, so its outcome is offered, and refused. (A
    // worker closing before then would not wait for a task no longer its own.)
    await ended;
    await expect.poll(() => warnings.length).toBe(2);
    await worker.close();
    await work;
    // Once when the renewal finds the claim lost, once when the outcome is refused.
    expect(warnings).toEqual([
      "running tasks are no longer this worker's: another worker took them over (their claims were not renewed in time), they were deleted or their queue cleared, or the backend lost what it held (a server restarted without its data); their outcomes will be discarded",
      "this task was no longer this worker's when its outcome was to be stored (another worker took it over, it was deleted or its queue cleared, or the backend lost what it held: a server restarted without its data); the outcome was discarded",
    ]);
    expect(abortedWhileRunning).toBe(true);
    // The first renewal after the takeover finds the claim lost; none follows it.
    expect(renewals).toBeLessThanOrEqual(1);
    raw.disconnect();
    await queue.close();
  }, 30_000);
});
