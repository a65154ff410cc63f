/**
 * waitReplicas on a private primary with one replica: writes answer once the
 * replica has them; with the replica gone, an add, a claim and a settle fail
 * with a one-line BackendUnavailableError saying how many replicas confirmed,
 * the write stays applied on the primary, and a claim that failed so gives
 * its tasks back to the next claim.
 */
import pino from "pino";
import { BackendUnavailableError, Queue, task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askRedis, PrivateRedis } from "../../support/private-redis.js";
import { redisServerInstalled } from "../../support/private-redis-cluster.js";
import { missingService } from "../../support/services.js";

const available =
  redisServerInstalled() || missingService("Redis replicas", "redis-server is not installed");
const double = task({ name: "wait-replicas.double" }, (n: number) => n * 2);

describe.skipIf(!available)("redis: waitReplicas", () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;

  beforeAll(async () => {
    primary = await PrivateRedis.start();
    replica = await PrivateRedis.start(["--replicaof", "127.0.0.1", String(primary.port)]);
    await untilReplicaAttached(primary.port);
  });

  afterAll(async () => {
    // Killed first: a primary stopped politely waits for its replicas to catch up.
    for (const server of [replica, primary]) {
      await server?.kill();
      await server?.destroy();
    }
  });

  it("with the replica attached, adds, claims and settles answer as usual", async () => {
    const queue = new Queue(
      new RedisBackend({ url: primary.url, prefix: "attached", waitReplicas: 1 }),
      { name: "q" },
    );
    const tasks = [double(1), double(2), double(3)];
    expect(await queue.add(tasks)).toEqual([true, true, true]);
    const { Worker } = await import("sheppy");
    await new Worker(queue).work({ maxTasks: 3 });
    expect((await queue.waitFor(tasks, { timeout: 5 })).map((t) => t.result)).toEqual([2, 4, 6]);
    await queue.close();
  });

  it("a waitReplicas the master cannot meet is warned about once at connect, naming it and its replicas", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const backend = new RedisBackend({
      url: primary.url,
      prefix: "short",
      waitReplicas: 2,
      logger,
    });
    await backend.connect();
    const warned = lines.map((line) => JSON.parse(line) as { msg: string; replicas?: number });
    expect(warned.filter((line) => /waitReplicas/.test(line.msg))).toEqual([
      expect.objectContaining({
        replicas: 1,
        msg: `waitReplicas is 2, but the Redis master at 127.0.0.1:${primary.port} has 1 replica connected: every write there (add, claim, settle) will fail as not confirmed — though applied — until 2 are`,
      }),
    ]);
    await backend.disconnect();
    lines.length = 0;
    const met = new RedisBackend({ url: primary.url, prefix: "met", waitReplicas: 1, logger });
    await met.connect();
    expect(lines.filter((line) => line.includes("waitReplicas"))).toEqual([]);
    await met.disconnect();
  });

  it("with the replica gone, writes fail saying so and stay applied; a failed claim's task comes back to the next claim", async () => {
    const queue = new Queue(
      new RedisBackend({
        url: primary.url,
        prefix: "gone",
        waitReplicas: 1,
        waitReplicasTimeout: 0.1,
      }),
      { name: "q" },
    );
    const plain = new Queue(new RedisBackend({ url: primary.url, prefix: "gone" }), {
      name: "q",
    });
    // Killed, not stopped: nothing to wait for (a replica resyncs from its primary when it is back).
    await replica.kill();
    await untilReplicaAttached(primary.port, 0);
    const t = double(21);
    const added = queue.add(t);
    await expect(added).rejects.toThrow(BackendUnavailableError);
    await expect(added).rejects.toThrow(
      /^add: Redis at redis:\/\/127\.0\.0\.1:\d+ applied it, but only 0 of the 1 replicas asked for \(waitReplicas\) confirmed it within 100 ms; a failover now could lose it$/,
    );
    // Applied on the primary all the same.
    expect((await plain.getTask(t))?.status).toBe("pending");

    // The claim is applied too, and not confirmed: the worker is not given the task.
    await expect(queue.backend.claim("q", 10)).rejects.toThrow(/^claim: .*only 0 of the 1/);
    expect((await plain.getTask(t))?.status).toBe("processing");

    // Once a replica confirms again, the next claim names the failed one, puts its task back and
    // takes it. A replica just back online may still miss the 100 ms on a loaded machine: that
    // claim fails the same way (applied, unconfirmed, its task taken again), and the one after
    // puts it back in turn — so every attempt but the last must fail exactly so.
    await replica.start();
    await untilReplicaAttached(primary.port);
    const claimed = await claimOnceConfirmed(queue, 50);
    expect(claimed.map((c) => c.record.id)).toEqual([t.id]);
    expect((await plain.getTask(t))?.status).toBe("processing");
    await queue.close();
    await plain.close();
  });
});

/** Claims until a claim is confirmed; each one before it must fail for want of a replica's confirmation. */
async function claimOnceConfirmed(queue: Queue, attempts: number) {
  for (let i = 1; ; i++) {
    try {
      return await queue.backend.claim("q", 10);
    } catch (error) {
      expect(String(error)).toMatch(/claim: .*only 0 of the 1 replicas/);
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Waits until the primary on `port` reports `count` replicas online (at least one by default). */
async function untilReplicaAttached(port: number, count?: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const attached = await probeReplicas(port);
    if (count === undefined ? attached > 0 : attached === count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the private primary never had ${count ?? "a"} replica(s) online`);
}

/** Replicas done with their first sync ("online"): only those acknowledge writes to WAIT. */
async function probeReplicas(port: number): Promise<number> {
  const info = await askRedis(port, ["INFO", "replication"]);
  if (typeof info !== "string") return -1;
  return info.split("\n").filter((line) => /^slave\d+:.*state=online/.test(line)).length;
}
