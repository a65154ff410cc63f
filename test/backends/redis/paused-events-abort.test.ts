/**
 * An aborted `queue.events()` iterator ends at once even while the Redis
 * server is paused (SIGSTOP: it keeps its connections but answers nothing),
 * on a private server: the read waiting on it, or a first connect that
 * hangs, is left to run out its own time bound, but the caller who aborted
 * is not held for it (it was, 5–21 s).
 */
import { Queue } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Far below the calls' 10 s bound that the iterator used to wait out; room for a busy machine. */
const PROMPT_MS = 2000;

describe.skipIf(!available)("redis: an aborted event iterator while the server is paused", () => {
  let server: PrivateRedis | undefined;
  const closing: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    server?.resume();
    for (const close of closing.splice(0)) await close().catch(() => undefined);
    await server?.destroy();
    server = undefined;
  });

  /** Runs the iterator to its end; how long after `abort()` it ended, and what it threw. */
  async function endAfterAbort(queue: Queue, beforeAbort: () => Promise<void>) {
    const controller = new AbortController();
    const reading = (async () => {
      for await (const _ of queue.events({ after: "now", signal: controller.signal })) {
        // Nothing is added: the iterator only waits.
      }
    })();
    await beforeAbort();
    const t0 = Date.now();
    controller.abort();
    const thrown = await reading.then(
      () => undefined,
      (error: unknown) => error,
    );
    return { took: Date.now() - t0, thrown };
  }

  it("a read under way on the paused server: the iterator ends at once, without an error", async () => {
    server = await PrivateRedis.start();
    const queue = new Queue(new RedisBackend({ url: server.url }), { name: "paused-events" });
    closing.push(() => queue.close());
    await queue.connect();
    const { took, thrown } = await endAfterAbort(queue, async () => {
      await sleep(500);
      server!.pause();
      // The iterator's next read is sent to the paused server and waits.
      await sleep(2500);
    });
    expect(thrown).toBeUndefined();
    expect(took, `ended ${took} ms after the abort`).toBeLessThan(PROMPT_MS);
  }, 60_000);

  it("a first connect that hangs on the paused server: the iterator ends at once, without an error", async () => {
    server = await PrivateRedis.start();
    server.pause();
    const queue = new Queue(new RedisBackend({ url: server.url }), { name: "paused-events" });
    closing.push(() => queue.close());
    const { took, thrown } = await endAfterAbort(queue, () => sleep(1000));
    expect(thrown).toBeUndefined();
    expect(took, `ended ${took} ms after the abort`).toBeLessThan(PROMPT_MS);
  }, 60_000);
});
