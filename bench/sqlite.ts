/**
 * Sheppy on SQLite against the memory backend and Redis, in the same process
 * and run (`npm run bench:sqlite`). Scenarios and sizes are the Redis
 * benchmark's (BullMQ's own):
 *   add-single         5,000 sequential adds, each awaited
 *   add-bulk           50,000 tasks in awaited calls of 50 (and, as an extra row, calls of 1,000)
 *   worker-concurrent  20,000 pre-filled no-op tasks, one worker, concurrency 100
 * and, while that worker runs, how long the event loop was blocked
 * (`perf_hooks.monitorEventLoopDelay`, 1 ms resolution; as Node.js reports
 * it, the interval between 1 ms timer turns, so an idle loop reads ≈ 1.1 ms):
 * its p99 and max.
 *
 * SQLite runs on a fresh file per run (WAL, `synchronous=NORMAL`, the
 * default; and `synchronous=FULL` unless BENCH_SQLITE_FULL=0) in a temporary
 * directory removed at the end. Memory runs without instant processing.
 * Redis is BENCH_REDIS_URL (default redis://127.0.0.1:6379), each run under
 * a key prefix of its own, deleted after it; when Redis does not answer, its
 * column is skipped with a line saying so. Each scenario runs BENCH_RUNS
 * times (default 3) per backend in rotating order; medians are printed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Redis } from "ioredis";
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { fmt, gc, median } from "./stats.js";

const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = {
  single: Number(process.env.BENCH_SINGLE ?? 5000),
  bulk: Number(process.env.BENCH_BULK ?? 50_000),
  concurrent: Number(process.env.BENCH_CONCURRENT ?? 20_000),
};

const noop = task({ name: "bench.noop" }, () => null);
const dir = mkdtempSync(join(tmpdir(), "sheppy-bench-sqlite-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

interface Target {
  readonly name: string;
  /** A fresh store for one measurement: `open()` gives a queue on it (each call a new one), `cleanup()` deletes it. */
  fresh(): { open(): Queue; cleanup(): Promise<void> };
}

let runId = 0;
const sqlite = (synchronous: "normal" | "full"): Target => ({
  name: `sqlite ${synchronous.toUpperCase()}`,
  fresh() {
    const file = join(dir, `run-${++runId}.db`);
    const url = `sqlite://${file}${synchronous === "full" ? "?synchronous=full" : ""}`;
    return {
      open: () => new Queue(url, { name: "b" }),
      async cleanup() {
        for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
      },
    };
  },
});

const memory: Target = {
  name: "memory",
  fresh() {
    // One backend instance: a second Queue on it sees the same tasks.
    const backend = new MemoryBackend({ instantProcessing: false });
    return { open: () => new Queue(backend, { name: "b" }), cleanup: async () => undefined };
  },
};

const redis: Target = {
  name: "redis",
  fresh() {
    const prefix = `bench-sqlite-cmp-${process.pid}-${++runId}`;
    return {
      open: () => new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "b" }),
      async cleanup() {
        const client = new Redis(REDIS_URL);
        for (const pattern of [`{${prefix}:*`, `${prefix}:*`]) {
          let cursor = "0";
          do {
            const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
            if (keys.length) await client.unlink(...keys);
            cursor = next;
          } while (cursor !== "0");
        }
        client.disconnect();
      },
    };
  },
};

const rate = (count: number, ms: number) => count / (ms / 1000);

async function addSingle(target: Target): Promise<number> {
  const store = target.fresh();
  const queue = store.open();
  await queue.connect();
  const started = performance.now();
  for (let i = 0; i < SIZES.single; i++) await queue.add(noop());
  const elapsed = performance.now() - started;
  await queue.close();
  await store.cleanup();
  return rate(SIZES.single, elapsed);
}

async function addBulk(target: Target, per: number): Promise<number> {
  const store = target.fresh();
  const queue = store.open();
  await queue.connect();
  const started = performance.now();
  for (let i = 0; i < SIZES.bulk; i += per) {
    await queue.add(Array.from({ length: per }, () => noop()));
  }
  const elapsed = performance.now() - started;
  await queue.close();
  await store.cleanup();
  return rate(SIZES.bulk, elapsed);
}

interface WorkerRun {
  readonly rate: number;
  /** Event-loop delay while the worker ran, ms. */
  readonly p99: number;
  readonly max: number;
  /** Timer turns the delay was sampled on. */
  readonly samples: number;
}

async function workerConcurrent(target: Target): Promise<WorkerRun> {
  const store = target.fresh();
  const producer = store.open();
  for (let i = 0; i < SIZES.concurrent; i += 1000) {
    await producer.add(Array.from({ length: 1000 }, () => noop()));
  }
  // The worker has a queue (and, on SQLite and Redis, a connection) of its own.
  const queue = target === memory ? producer : store.open();
  await queue.connect();
  const worker = new Worker(queue, { concurrency: 100, scheduler: false });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Node.js's first timer turn after enable() only starts the clock: let it pass before the drain,
  // or a drain that never yields to the event loop would record nothing at all.
  await new Promise((resolve) => setTimeout(resolve, 10));
  const started = performance.now();
  const summary = await worker.work({ maxTasks: SIZES.concurrent });
  const elapsed = performance.now() - started;
  // One timer turn after the drain, so a drain that never yielded still records its block.
  await new Promise((resolve) => setTimeout(resolve, 3));
  delay.disable();
  if (summary.processed !== SIZES.concurrent) {
    throw new Error(`${target.name}: processed ${summary.processed} of ${SIZES.concurrent}`);
  }
  if (queue !== producer) await queue.close();
  await producer.close();
  await store.cleanup();
  return {
    rate: rate(SIZES.concurrent, elapsed),
    p99: delay.percentile(99) / 1e6,
    max: delay.max / 1e6,
    samples: delay.count,
  };
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname || "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => done(true));
  });
}

const targets: Target[] = [sqlite("normal")];
if (process.env.BENCH_SQLITE_FULL !== "0") targets.push(sqlite("full"));
targets.push(memory);
if (await reachable(REDIS_URL)) targets.push(redis);
else console.log(`skipping Redis: nothing answers at ${REDIS_URL} (set BENCH_REDIS_URL)`);

/** Runs `measure` RUNS times per target, rotating which target goes first; the values per target. */
async function rotate<T>(measure: (target: Target) => Promise<T>): Promise<Map<Target, T[]>> {
  const results = new Map<Target, T[]>(targets.map((t) => [t, []]));
  for (let run = 0; run < RUNS; run++) {
    const order = targets.map((_, i) => targets[(i + run) % targets.length]!);
    for (const target of order) {
      gc();
      results.get(target)!.push(await measure(target));
    }
  }
  return results;
}

// One unmeasured pass warms the JIT and the file system on every target.
for (const target of targets) {
  await addBulk(target, 1000);
}

const rows: [string, Map<Target, string>][] = [];
const throughputRow = (label: string, results: Map<Target, number[]>) =>
  rows.push([label, new Map([...results].map(([t, v]) => [t, `${fmt(median(v))}/s`]))]);

throughputRow(`add-single (${fmt(SIZES.single)})`, await rotate(addSingle));
const bulk = await rotate((t) => addBulk(t, 50));
throughputRow(`add-bulk (${fmt(SIZES.bulk)}, calls of 50)`, bulk);
throughputRow(
  `add-bulk (${fmt(SIZES.bulk)}, calls of 1,000)`,
  await rotate((t) => addBulk(t, 1000)),
);
const workers = await rotate(workerConcurrent);
throughputRow(
  `worker-concurrent (${fmt(SIZES.concurrent)}, c=100)`,
  new Map([...workers].map(([t, runs]) => [t, runs.map((r) => r.rate)])),
);
for (const [label, pick] of [
  ["event-loop delay p99 (worker)", (r: WorkerRun) => r.p99],
  ["event-loop delay max (worker)", (r: WorkerRun) => r.max],
] as const) {
  rows.push([
    label,
    new Map([...workers].map(([t, runs]) => [t, `${fmt(median(runs.map(pick)), 1)} ms`])),
  ]);
}
rows.push([
  "event-loop samples (worker)",
  new Map([...workers].map(([t, runs]) => [t, fmt(median(runs.map((r) => r.samples)))])),
]);

console.log(
  `SQLite (WAL) vs memory vs Redis; ${RUNS} runs per backend, rotating order; medians (Node ${process.version})`,
);
const width = Math.max(...rows.map(([label]) => label.length)) + 2;
console.log(`${"".padEnd(width)}${targets.map((t) => t.name.padStart(16)).join("")}`);
for (const [label, values] of rows) {
  console.log(`${label.padEnd(width)}${targets.map((t) => values.get(t)!.padStart(16)).join("")}`);
}
const normal = targets[0]!;
const sqliteWorker = median(workers.get(normal)!.map((r) => r.rate));
const sqliteBulk = median(bulk.get(normal)!);
const verdict = (value: number, target: number) =>
  `${value >= target ? "met" : "missed"} (${fmt(value)}/s)`;
console.log(
  `targets on SQLite NORMAL: worker-concurrent ≥ 10,000/s ${verdict(sqliteWorker, 10_000)}; ` +
    `add-bulk (calls of 50) ≥ 50,000/s ${verdict(sqliteBulk, 50_000)}`,
);
process.exit(0);
