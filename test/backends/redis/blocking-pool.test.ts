/**
 * A worker over many idle queues on one Redis backend waits on all of them
 * at once, each wait on a blocking connection of its own: the connections
 * are kept for the next waits, not closed and opened again at every wait
 * (which cost a connection and a ready check per queue and claim wait).
 * Private server: its connection count is this test's alone.
 */
import { pino } from "pino";
import { Queue, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisConnections } from "../../../src/backends/redis/connections.js";
import { askRedis, PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function connectionsReceived(port: number): Promise<number> {
  const stats = String(await askRedis(port, ["INFO", "stats"]));
  return Number(/total_connections_received:(\d+)/.exec(stats)?.[1]);
}

async function connectedClients(port: number): Promise<number> {
  const clients = String(await askRedis(port, ["INFO", "clients"]));
  return Number(/connected_clients:(\d+)/.exec(clients)?.[1]);
}

describe.skipIf(!available)("redis: blocking connections of a worker over many idle queues", () => {
  let server: PrivateRedis | undefined;

  afterEach(async () => {
    await server?.destroy();
    server = undefined;
  });

  it("are kept for the next waits: no new connection per wait", async () => {
    server = await PrivateRedis.start();
    const backend = new RedisBackend({ url: server.url });
    const queues = Array.from({ length: 30 }, (_, i) => new Queue(backend, { name: `idle-${i}` }));
    const worker = new Worker(queues, { concurrency: 2, claimWait: 0.2 });
    const working = worker.work();
    try {
      // Every queue's wait has opened its connection (beside the main one and the one asking).
      const deadline = Date.now() + 30_000;
      while ((await connectedClients(server.port)) < queues.length + 2 && Date.now() < deadline)
        await sleep(100);
      const before = await connectionsReceived(server.port);
      // About ten claim waits of every queue.
      await sleep(2000);
      // The two asks of the count open one connection each.
      expect((await connectionsReceived(server.port)) - before).toBeLessThanOrEqual(2);
    } finally {
      await worker.close();
      await working;
      await queues[0]!.close();
    }
  });

  it("a burst's connections above the floor are closed once its minute has passed, though no wait comes after", async () => {
    server = await PrivateRedis.start();
    const connections = new RedisConnections(server.url, {}, pino({ level: "silent" }), 5000);
    connections.blockingPeakMs = 500;
    await connections.open();
    try {
      // A burst of 20 waits at once (event streams opened together, say), then none.
      await Promise.all(
        Array.from({ length: 20 }, () =>
          connections.withBlocking((client) => client.call("BLPOP", "nothing", "0.2")),
        ),
      );
      // Beside the main connection and the one asking: the burst's 20, kept for its minute.
      expect(await connectedClients(server.port)).toBe(22);
      await sleep(1000);
      // Then the floor's eight.
      expect(await connectedClients(server.port)).toBe(10);
    } finally {
      await connections.close();
    }
  });
});
