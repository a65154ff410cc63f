/**
 * A waiting claim waits on a connection of its own, opened on first need. On
 * a loaded machine (or a cluster still learning its slots) that connection
 * may not be ready before a short wait is over: the claim then ends as a wait
 * that saw nothing — `[]`, after one more look — rather than failing with a
 * connection error; once it is ready, waits work as before.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const prefix = fileKey(import.meta.url);
const upstream = new URL(REDIS_URL);
const job = task({ name: "slow-waiting-connection.job" }, (n: number) => n);

/** A proxy to the test Redis: the first connection goes through at once, each later one after `delayMs`. */
async function slowProxy(delayMs: number): Promise<{ url: string; server: Server }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    sockets.add(client);
    client.pause();
    const open = () => {
      const up = connect(Number(upstream.port || 6379), upstream.hostname);
      sockets.add(up);
      client.pipe(up).pipe(client);
      client.resume();
      const end = () => {
        client.destroy();
        up.destroy();
      };
      client.on("error", end).on("close", end);
      up.on("error", end).on("close", end);
    };
    if (connections++ === 0) open();
    else setTimeout(open, delayMs);
  });
  server.on("close", () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `redis://127.0.0.1:${port}`, server };
}

afterAll(async () => {
  if (available) await deleteRedisPrefix(prefix);
});

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: a waiting claim whose connection is not ready yet", () => {
  it("a short wait ends with [] instead of an error; a later wait on the connection, ready by then, returns the task added meanwhile", async () => {
    const { url, server } = await slowProxy(5000);
    const backend = new RedisBackend({ url, prefix });
    try {
      await backend.connect();
      const started = Date.now();
      expect(await backend.claim("q", 1, 200)).toEqual([]);
      // It waited the wait, not the connection.
      expect(Date.now() - started).toBeLessThan(3000);
      const claiming = backend.claim("q", 1, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 5500));
      const t = job(1);
      await backend.add("q", [{ ...t.toJSON(), status: "pending" }]);
      const claimed = await claiming;
      expect(claimed.map((c) => c.record.id)).toEqual([t.id]);
    } finally {
      await backend.disconnect();
      server.close();
    }
  });
});
