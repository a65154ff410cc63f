/**
 * Concurrency-key slots survive a worker's SIGKILL, on a private Redis: a
 * worker process claims the first task of each of 5 keys (limit 1; 4 tasks
 * per key, so the other 15 are held) and is killed while its 5 attempts run.
 * A second worker takes the claims over by reclaim; each key's other tasks
 * then run, one at a time per key, and every task finishes — the killed
 * attempts retried (`retryOnCrash`) or ended `crashed` (without it). At the
 * end no slot has leaked: `:pending:slots` is empty, `:pending:heldn` is 0
 * (or gone), no `:pending:held:<key>` list is left, and no record keeps a
 * slot mark (`cs`).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { Queue, type Task, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { PrivateRedis } from "../../support/private-redis.js";
import { exited, waitForOutput } from "../../support/processes.js";
import { missingService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const KEYS = ["k0", "k1", "k2", "tenant:with space", "k4"];
const PER_KEY = 4;
/** Lease timings of the worker that takes over (the crash tests' short ones). */
const LEASE = { heartbeatInterval: 0.2, leaseTimeout: 1, reclaimInterval: 0.2 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const root = fileURLToPath(new URL("../../..", import.meta.url));
const source = (path: string) => new URL(`../../../src/${path}`, import.meta.url).href;

/** Whether a private server can run here: fails under CI=true when redis-server is missing. */
async function redisServerInstalled(): Promise<boolean> {
  try {
    await promisify(execFile)("redis-server", ["--version"]);
    return true;
  } catch {
    return missingService("private Redis", "redis-server is not installed");
  }
}
const available = await redisServerInstalled();

/** What this process's runs saw: starts per key in order, and how many of one key ran at once. */
const seen = {
  starts: new Map<string, number[]>(),
  /** When this process first started a task of each key (ms). */
  firstStartAt: new Map<string, number>(),
  running: new Map<string, number>(),
  maxPerKey: new Map<string, number>(),
};

/** This process's body of both tasks: short work, watched per key. */
async function watchedRun(key: string, n: number): Promise<string> {
  seen.starts.set(key, [...(seen.starts.get(key) ?? []), n]);
  if (!seen.firstStartAt.has(key)) seen.firstStartAt.set(key, Date.now());
  const now = (seen.running.get(key) ?? 0) + 1;
  seen.running.set(key, now);
  seen.maxPerKey.set(key, Math.max(seen.maxPerKey.get(key) ?? 0, now));
  await sleep(25);
  seen.running.set(key, seen.running.get(key)! - 1);
  return `${key}:${n}`;
}

const VARIANTS = {
  retried: { name: "slots-crash.retried", retry: 1, retryDelay: 0, retryOnCrash: true },
  crashed: { name: "slots-crash.crashed" },
} as const;
type Variant = keyof typeof VARIANTS;
const definitions = {
  retried: task(
    { ...VARIANTS.retried, concurrency: { key: (key: string) => key, limit: 1 } },
    watchedRun,
  ),
  crashed: task(
    { ...VARIANTS.crashed, concurrency: { key: (key: string) => key, limit: 1 } },
    watchedRun,
  ),
};

const startsKey = `${prefix}:test:victim-starts`;

/**
 * The victim: a worker process whose runs of both tasks record their start
 * and then never return, so each holds its key's slot until the process dies.
 */
const victimCode = `
import { Redis } from "ioredis";
import { Queue, task, Worker } from ${JSON.stringify(source("index.ts"))};
import { RedisBackend } from ${JSON.stringify(source("backends/redis/index.ts"))};
const url = process.env.TEST_REDIS_URL;
const recorder = new Redis(url);
const hold = async (key, n) => {
  await recorder.rpush(${JSON.stringify(startsKey)}, key + "|" + n + "|" + process.pid);
  await new Promise(() => {});
};
const concurrency = { key: (key) => key, limit: 1 };
task({ ...${JSON.stringify(VARIANTS.retried)}, concurrency }, hold);
task({ ...${JSON.stringify(VARIANTS.crashed)}, concurrency }, hold);
const queue = new Queue(new RedisBackend({ url, prefix: process.env.TEST_PREFIX }), {
  name: process.env.TEST_QUEUE,
});
const worker = new Worker(queue, {
  concurrency: 10,
  heartbeatInterval: 0.2,
  leaseTimeout: 1,
  reclaimInterval: 0.2,
  schedulerInterval: 0.1,
});
worker.once("worker:started", () => console.log("ready"));
await worker.work();
`;

function spawnVictim(env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "--eval", victimCode],
    { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  return child;
}

/** Every key of the private server matching `pattern` (SCAN, not KEYS). */
async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

/** Escapes Redis glob characters, so a key name matches only itself in SCAN MATCH. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

// Skipped only without redis-server (the test needs a private server); under CI=true that fails instead.
describe.skipIf(!available)(
  "redis: concurrency-key slots when a worker holding them is SIGKILLed",
  () => {
    let server: PrivateRedis | undefined;
    let client: Redis | undefined;
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      server = await PrivateRedis.start();
      client = new Redis(server.url);
    });

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      await Promise.all(children.map(exited));
      client?.disconnect();
      await server?.destroy();
    });

    it.each(["retried", "crashed"] as const)(
      "5 keys × 4 tasks, limit 1, the holder of all 5 slots killed: reclaim frees them, every task finishes, no slot leaks (%s)",
      async (variant: Variant) => {
        const redis = client!;
        const url = server!.url;
        const name = `slots-${variant}`;
        const tag = `{${prefix}:${name}}`;
        const slotsKey = `${tag}:pending:slots`;
        const heldCountKey = `${tag}:pending:heldn`;
        const heldPattern = `${globLiteral(tag)}:pending:held:*`;
        seen.starts.clear();
        seen.firstStartAt.clear();
        seen.running.clear();
        seen.maxPerKey.clear();
        await redis.del(startsKey);

        const queue = new Queue(new RedisBackend({ url, prefix }), { name });
        const tasks: Task[] = [];
        for (let n = 0; n < PER_KEY; n++)
          for (const key of KEYS) tasks.push(definitions[variant](key, n));
        await queue.add(tasks);
        const keyOf = new Map(tasks.map((t) => [t.id, t.concurrencyKey!]));
        expect(new Set(keyOf.values())).toEqual(new Set(KEYS));

        // The victim claims the first task of every key and holds all 5 slots.
        const victim = spawnVictim({ TEST_REDIS_URL: url, TEST_PREFIX: prefix, TEST_QUEUE: name });
        children.push(victim);
        await waitForOutput(victim, "ready", 30_000);
        const deadline = Date.now() + 20_000;
        while ((await redis.llen(startsKey)) < KEYS.length) {
          if (Date.now() > deadline) throw new Error("the victim never started 5 tasks");
          await sleep(20);
        }
        const started = (await redis.lrange(startsKey, 0, -1)).map((e) => e.split("|"));
        expect(started.map(([key, n, pid]) => [key, n, pid]).sort()).toEqual(
          KEYS.map((key) => [key, "0", String(victim.pid)]).sort(),
        );
        const slotsAtKill = await redis.hgetall(slotsKey);
        expect(slotsAtKill).toEqual(Object.fromEntries(KEYS.map((key) => [key, "1"])));
        expect(await redis.get(heldCountKey)).toBe(String(KEYS.length * (PER_KEY - 1)));
        for (const key of KEYS)
          expect(await redis.llen(`${tag}:pending:held:${key}`)).toBe(PER_KEY - 1);
        expect(await redis.zcard(`${tag}:processing`)).toBe(KEYS.length);
        expect(await redis.llen(`${tag}:pending`)).toBe(0);

        victim.kill("SIGKILL");
        expect(await exited(victim)).toBe("SIGKILL");
        const killedAt = Date.now();
        // A dead holder's claims keep their slots until they are taken over and settled.
        expect(await redis.hgetall(slotsKey)).toEqual(slotsAtKill);

        const workerQueue = new Queue(new RedisBackend({ url, prefix }), { name });
        const worker = new Worker(workerQueue, {
          concurrency: 10,
          ...LEASE,
          schedulerInterval: 0.1,
          claimWait: 0.2,
        });
        const reclaimed: string[] = [];
        worker.on("task:crashed", ({ task: t }) => reclaimed.push(t.id));
        const working = worker.work();
        const finished = await queue.waitFor(tasks, { timeout: 30 });
        await worker.close();
        const summary = await working;
        // No key ran again before the dead holder's lease ran out (its last renewal was at most a
        // heartbeat before the kill): until the takeover, the dead claims kept their slots.
        for (const key of KEYS) {
          expect(seen.firstStartAt.get(key)! - killedAt, key).toBeGreaterThanOrEqual(
            (LEASE.leaseTimeout - LEASE.heartbeatInterval) * 1000,
          );
        }

        // The victim's 5 attempts were taken over by reclaim, and only those.
        const first = tasks.filter((_, i) => i < KEYS.length);
        expect(new Set(reclaimed)).toEqual(new Set(first.map((t) => t.id)));
        expect(summary.reclaimed).toBe(KEYS.length);
        const byId = new Map(finished.map((t) => [t.id, t]));
        for (const t of tasks) {
          const done = byId.get(t.id)!;
          const killed = first.includes(t);
          if (variant === "crashed" && killed) {
            expect(done.status, `${done.id} (${keyOf.get(t.id)})`).toBe("crashed");
          } else {
            expect(done.status, `${done.id} ${done.error?.message}`).toBe("completed");
            expect(done.result).toBe(`${t.concurrencyKey}:${t.args[1]}`);
            expect(done.retryCount).toBe(killed ? 1 : 0);
          }
        }
        // Per key: never two at once; the held tasks in order, a retried attempt behind them.
        for (const key of KEYS) {
          expect(seen.maxPerKey.get(key), key).toBe(1);
          expect(seen.starts.get(key), key).toEqual(
            variant === "retried" ? [1, 2, 3, 0] : [1, 2, 3],
          );
        }

        // No slot leaks.
        expect(await redis.hlen(slotsKey)).toBe(0);
        expect(await redis.hgetall(slotsKey)).toEqual({});
        expect(["0", null]).toContain(await redis.get(heldCountKey));
        expect(await scanKeys(redis, heldPattern)).toEqual([]);
        expect(await redis.llen(`${tag}:pending`)).toBe(0);
        expect(await redis.zcard(`${tag}:processing`)).toBe(0);
        const marks = await Promise.all(tasks.map((t) => redis.hget(`${tag}:t:${t.id}`, "cs")));
        expect(marks).toEqual(tasks.map(() => null));
        expect(await queue.size()).toBe(0);
        expect((await queue.stats()).pending).toBe(0);

        await workerQueue.close();
        await queue.close();
      },
      60_000,
    );
  },
);
