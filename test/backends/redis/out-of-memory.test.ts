/**
 * Redis at its memory limit (`maxmemory`, `noeviction`), on a private
 * server: new work is refused whole with a typed error, while work already
 * running keeps its leases and is finished and stored — so memory can only
 * go down from there, and no live worker's task is taken over.
 */
import { Redis } from "ioredis";
import { BackendFullError, Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const long = task({ name: "out-of-memory.long" }, async (ms: number) => {
  await sleep(ms);
  return "done";
});
const bulky = task({ name: "out-of-memory.bulky" }, (payload: string) => payload.length);

describe.skipIf(!available)("redis: out of memory", () => {
  let server: PrivateRedis | undefined;
  const queues: Queue[] = [];

  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.close().catch(() => undefined);
    await server?.destroy();
    server = undefined;
  });

  it("adds fail with BackendFullError; a running task keeps its lease, completes and is stored", async () => {
    server = await PrivateRedis.start(["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"]);
    const open = () => {
      const queue = new Queue(new RedisBackend({ url: server!.url, prefix: "oom" }), {
        name: "oom",
      });
      queues.push(queue);
      return queue;
    };
    const producer = open();
    const worker = new Worker(open(), {
      claimWait: 0.1,
      heartbeatInterval: 0.2,
      leaseTimeout: 1,
      reclaimInterval: 0.2,
    });
    const crashed: string[] = [];
    worker.on("task:crashed", ({ task: t }) => crashed.push(t.id));
    const started = new Promise((resolve) => worker.once("task:started", resolve));
    const running = worker.work();
    const t = long(4000);
    await producer.add(t);
    await started;
    // A second worker, which would take the task over if the first could not renew its lease.
    const other = new Worker(open(), {
      claimWait: 0.1,
      heartbeatInterval: 0.2,
      leaseTimeout: 1,
      reclaimInterval: 0.2,
    });
    other.on("task:crashed", ({ task: c }) => crashed.push(c.id));
    const otherRunning = other.work();

    // Fill Redis with waiting work until it refuses more.
    const payload = "x".repeat(20_000);
    let refusal: unknown;
    for (let i = 0; i < 1000 && refusal === undefined; i++) {
      await producer.schedule(bulky(payload), 3600).catch((error: unknown) => {
        refusal = error;
      });
    }
    expect(refusal).toBeInstanceOf(BackendFullError);
    expect((refusal as Error).message).toMatch(/out of memory/);
    // Right at the limit a small write can still slip under it; a lower limit keeps Redis over it.
    const admin = new Redis(server.url);
    await admin.config("SET", "maxmemory", "1mb");
    admin.disconnect();
    await expect(producer.add(bulky("small"))).rejects.toThrow(BackendFullError);

    // Well past the lease and the confirmation window: renewals still get through.
    const done = await producer.waitFor(t, { timeout: 10 });
    expect([done.status, done.result, done.retryCount]).toEqual(["completed", "done", 0]);
    expect(crashed).toEqual([]);
    await Promise.all([worker.close(), other.close()]);
    expect((await running).processed).toBe(1);
    expect((await otherRunning).reclaimed).toBe(0);
  }, 30_000);
});
