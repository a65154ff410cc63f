/**
 * Soak: how much memory Redis holds when Sheppy runs flat out for a long
 * time with its default retention (`npm run bench:soak`; not a test).
 *
 * A private redis-server (its own port, no persistence) is started, so
 * `used_memory` is Sheppy's alone. One producer adds no-op tasks in batches
 * of 100 as fast as they are taken, one worker (concurrency 100) runs them,
 * and every 30 s the run prints the tasks done so far and Redis's
 * `used_memory`. Finished records are bounded by default (at most 10,000
 * expiring records per queue), so memory must reach a plateau: the run ends
 * by comparing the last third of the samples with the middle third.
 *
 * BENCH_SOAK_MINUTES sets the length (default 15).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { fmt } from "./stats.js";

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 15);
const SAMPLE_MS = 30_000;
const BATCH = 100;

const noop = task({ name: "soak.noop" }, () => null);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sheppy-soak-"));
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch (error) {
      probe.disconnect();
      if (i > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    stop: () => {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;

async function main(): Promise<void> {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  const baseline = await usedMemory(admin);
  const producerQueue = new Queue(new RedisBackend({ url: redis.url, prefix: "soak" }), {
    name: "soak",
  });
  const workerQueue = new Queue(new RedisBackend({ url: redis.url, prefix: "soak" }), {
    name: "soak",
  });
  const worker = new Worker(workerQueue, { concurrency: 100 });
  let done = 0;
  worker.on("task:completed", () => {
    done++;
  });
  const working = worker.work();
  const ends = Date.now() + MINUTES * 60_000;
  let producing = true;
  const producer = (async () => {
    while (producing) {
      // Keep a few batches waiting, no more: the run measures retention, not a growing backlog.
      if ((await producerQueue.size()) > BATCH * 10) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      await producerQueue.add(Array.from({ length: BATCH }, () => noop()));
    }
  })();

  console.log(
    `Redis ${redis.url} (private), ${MINUTES} min, default retention; baseline used_memory ${mb(baseline)}`,
  );
  console.log("minute   tasks done   tasks/s   used_memory");
  const samples: number[] = [];
  let lastDone = 0;
  while (Date.now() < ends) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(SAMPLE_MS, ends - Date.now())));
    const used = await usedMemory(admin);
    samples.push(used);
    const minute = (MINUTES * 60_000 - (ends - Date.now())) / 60_000;
    const rate = ((done - lastDone) * 1000) / SAMPLE_MS;
    lastDone = done;
    console.log(
      `${fmt(minute, 1).padStart(6)}   ${fmt(done).padStart(10)}   ${fmt(rate).padStart(7)}   ${mb(used).padStart(11)}`,
    );
  }
  producing = false;
  await producer;
  await worker.close();
  await working;

  const third = Math.max(1, Math.floor(samples.length / 3));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const middle = mean(samples.slice(third, 2 * third));
  const last = mean(samples.slice(-third));
  const stats = await workerQueue.stats();
  console.log(
    `finished records kept: ${fmt(stats.completed)}; memory over baseline per kept record: ${fmt((last - baseline) / Math.max(1, stats.completed))} bytes`,
  );
  console.log(
    `plateau: last third averages ${mb(last)} against ${mb(middle)} for the middle third (${fmt(((last - middle) / middle) * 100, 1)} %)`,
  );
  await producerQueue.close();
  await workerQueue.close();
  admin.disconnect();
  redis.stop();
}

await main();
