/**
 * Connections killed over and over (`CLIENT KILL TYPE normal` every 200 ms,
 * on a private server) while producers add, a worker drains and a `waitFor`
 * waits: each call is answered once the connection is back — none waits for
 * its time bound, since the server itself answers at once — and the process
 * stays responsive throughout. A killed connection can look ready for a
 * moment after its socket is gone; a call retried then must not spin on
 * promises and starve the event loop (which once held every call, and the
 * process, for the whole 10 s bound).
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const echo = task({ name: "killed-connections.echo" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, 2));
  return n;
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)("redis: connections killed again and again", () => {
  let server: PrivateRedis;

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it("every add is answered, the queue drains and waitFor resolves, with the event loop never held up", async () => {
    const quiet = pino({ level: "silent" });
    const producer = new Queue(new RedisBackend({ url: server.url, logger: quiet }), {
      name: "killed",
    });
    const workerQueue = new Queue(new RedisBackend({ url: server.url, logger: quiet }), {
      name: "killed",
    });
    const backlog = Array.from({ length: 300 }, (_, i) => echo(i));
    await producer.add(backlog);
    // The worker logs each reconnection; what matters here is what the calls and the tasks do.
    const worker = new Worker(workerQueue, {
      concurrency: 50,
      claimWait: 0.2,
      logger: quiet,
    });
    const working = worker.work();

    // The longest gap between ticks of a 10 ms interval: how long the event loop was held.
    let longestGap = 0;
    let lastTick = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - lastTick);
      lastTick = now;
    }, 10);

    const admin = new Redis(server.url);
    admin.on("error", () => undefined);
    let storming = true;
    let kills = 0;
    const storm = (async () => {
      while (storming) {
        await sleep(200);
        kills += Number(await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes"));
      }
    })();

    const added: string[] = [];
    const refusals: unknown[] = [];
    const slowest: number[] = [];
    // Adds all but back to back, so that some are always in flight when a kill lands.
    const until = performance.now() + 3000;
    const producers = Array.from({ length: 4 }, async () => {
      while (performance.now() < until) {
        const t = echo(added.length);
        const started = performance.now();
        try {
          await producer.add(t);
          added.push(t.id);
        } catch (error) {
          refusals.push(error);
        }
        slowest.push(performance.now() - started);
        await sleep(3);
      }
    });
    await Promise.all(producers);
    const all = [...backlog.map((t) => t.id), ...added];
    const finished = await producer.waitFor(all, { timeout: 30 });
    storming = false;
    await storm;
    clearInterval(ticker);

    expect(kills).toBeGreaterThan(5);
    expect(refusals).toEqual([]);
    expect(finished.every((t) => t.status === "completed")).toBe(true);
    // Bounds far above a healthy run's (milliseconds) and far below the 10 s a stuck call waited.
    expect(Math.max(...slowest)).toBeLessThan(5000);
    expect(longestGap).toBeLessThan(2000);

    await worker.close();
    await working;
    admin.disconnect();
    await Promise.all([producer.close(), workerQueue.close()]);
  });
});
