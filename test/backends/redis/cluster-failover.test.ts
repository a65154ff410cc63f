/**
 * A Redis Cluster master SIGKILLed mid-run: 3 worker processes run 5,000
 * tasks while a producer keeps adding; the master serving the queue's slot is
 * killed, its replica takes over, and the workers and the producer ride the
 * failover unaided. Run twice: with the default asynchronous replication and
 * with waitReplicas: 1. Each run prints its figures (acknowledged adds lost,
 * tasks run twice, tasks that ended crashed, time from the kill to the first
 * run after it); docs/backends/redis.md keeps them. Executions are recorded
 * on the shared Redis, outside the cluster under test.
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { Queue, type Task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { executionsKey, recordedWork } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { PrivateRedisCluster, redisServerInstalled } from "../../support/private-redis-cluster.js";
import { exited, startWorkerProcesses } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { missingService, requireService } from "../../support/services.js";

const key = fileKey(import.meta.url);
const available =
  (await requireService("Redis", REDIS_URL)) &&
  (redisServerInstalled() || missingService("Redis Cluster", "redis-server is not installed"));
const TASKS = 5000;
/** Added before the workers start; the rest are added while they run, across the kill. */
const FIRST = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Skipped only outside CI when Redis or redis-server is missing; under CI=true that fails instead.
describe.skipIf(!available)("redis cluster: a master killed mid-run", () => {
  const children: ChildProcess[] = [];
  const clusters: PrivateRedisCluster[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    for (const cluster of clusters) cluster.destroy();
    await deleteRedisPrefix(key);
  });

  for (const waitReplicas of [0, 1]) {
    const mode = waitReplicas === 0 ? "asynchronous replication" : "waitReplicas: 1";
    it(`${mode}: workers ride the failover, the queue drains, figures reported`, async () => {
      // Two replicas per master: after the failover the new master still has one to confirm writes.
      const cluster = await PrivateRedisCluster.start({
        replicasPerMaster: 2,
        nodeTimeoutMs: 2000,
      });
      clusters.push(cluster);
      const prefix = `${key}-w${waitReplicas}`;
      const queueName = "failover";
      const queue = new Queue(
        new RedisBackend({ url: cluster.url, prefix, unavailableAfter: 30, waitReplicas }),
        { name: queueName },
      );
      const tasks = Array.from({ length: TASKS }, (_, i) => recordedWork(REDIS_URL, prefix, i, 5));
      const acknowledged: Task[] = [];
      let refused = 0;
      const addBatch = async (batch: Task[]) => {
        try {
          const stored = await queue.add(batch);
          batch.forEach((t, i) => {
            if (stored[i]) acknowledged.push(t);
          });
        } catch {
          // Not acknowledged: the producer was told, so a loss here is not a lost add.
          refused += batch.length;
        }
      };
      for (let i = 0; i < FIRST; i += 500) await addBatch(tasks.slice(i, i + 500));

      const workers = await startWorkerProcesses(
        "test/fixtures/crash-worker.ts",
        {
          TEST_REDIS_URL: cluster.url,
          TEST_PREFIX: prefix,
          TEST_QUEUE: queueName,
          TEST_CONCURRENCY: "10",
          TEST_UNAVAILABLE_AFTER: "30",
          TEST_LEASE: "2",
          TEST_RECORD_TIMES: "1",
          TEST_WAIT_REPLICAS: String(waitReplicas),
        },
        3,
        children,
      );
      const recorder = new Redis(REDIS_URL);
      const executions = executionsKey(prefix);

      // The producer adds the rest in small batches while the workers run and the master dies.
      const producing = (async () => {
        for (let i = FIRST; i < TASKS; i += 25) await addBatch(tasks.slice(i, i + 25));
      })();
      while ((await recorder.llen(executions)) < 1500) await sleep(10);
      const victim = await cluster.masterOf(`{${prefix}:${queueName}}`);
      const killedAt = Date.now();
      cluster.kill(victim);
      await producing;

      // Every acknowledged task ends finished, or is gone (lost with the master).
      const deadline = Date.now() + 120_000;
      let records: (Task | null)[] = [];
      for (;;) {
        records = await queue.getTask(acknowledged);
        const open = records.filter(
          (t) => t !== null && !["completed", "failed", "crashed"].includes(t.status),
        );
        if (open.length === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `${open.length} acknowledged tasks still unfinished 120 s after the kill; workers said:\n${workers.output()}`,
          );
        }
        await sleep(250);
      }

      const runs = (await recorder.lrange(executions, 0, -1)).map((entry) => {
        const [id, , at] = entry.split(":");
        return { id: id!, at: Number(at) };
      });
      const counts = new Map<string, number>();
      for (const run of runs) counts.set(run.id, (counts.get(run.id) ?? 0) + 1);
      // The queue's slot serves nothing from the kill until its replica is promoted: the
      // longest pause between runs after the kill ends when the queue resumed.
      const after = runs
        .map((r) => r.at)
        .filter((at) => at > killedAt)
        .sort((a, b) => a - b);
      let resumedAt = Number.NaN;
      let longest = -1;
      for (let i = 0; i < after.length; i++) {
        const gap = after[i]! - (i === 0 ? killedAt : after[i - 1]!);
        if (gap > longest) [longest, resumedAt] = [gap, after[i]!];
      }
      const figures = {
        acknowledged: acknowledged.length,
        refused,
        lost: records.filter((t) => t === null).length,
        ranTwice: [...counts.values()].filter((n) => n > 1).length,
        crashed: records.filter((t) => t?.status === "crashed").length,
        failed: records.filter((t) => t?.status === "failed").length,
        resumeMs: resumedAt - killedAt,
        // Attempts another worker took over once their lease expired (the fixture prints each).
        reclaimed: (workers.output().match(/reclaimed /g) ?? []).length,
      };
      console.log(`cluster failover (${mode}): ${JSON.stringify(figures)}`);
      // The workers rode the failover: they are alive, and stop cleanly.
      for (const child of workers.children) child.kill("SIGTERM");
      const codes = await Promise.all(workers.children.map(exited));
      expect(codes, `worker output:\n${workers.output()}`).toEqual([0, 0, 0]);
      expect(figures.acknowledged + figures.refused).toBe(TASKS);
      expect(figures.failed).toBe(0);
      expect(Number.isFinite(figures.resumeMs)).toBe(true);
      // At most the attempts in flight when the master died (3 workers × 10) run again, each once.
      expect(figures.ranTwice).toBeLessThanOrEqual(30);
      expect([...counts.values()].every((n) => n <= 2)).toBe(true);
      if (waitReplicas > 0) {
        // What a replica confirmed survives the promotion of that replica.
        expect(figures.lost).toBe(0);
      }
      recorder.disconnect();
      await queue.close();
      cluster.destroy();
    }, 240_000);
  }
});
