/**
 * Memory backend benchmark (`npm run bench:memory`): in-process throughput of
 * a no-op task through Queue + Worker, and the memory held by 100,000 pending
 * tasks. Prints medians of 5 runs after a warm-up run. Numbers depend on the
 * machine; compare runs made on the same machine only.
 */
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { fmt, gc, median } from "./stats.js";

const RUNS = 5;
const TASKS = 100_000;

const noop = task({ name: "bench.noop" }, () => null);
const asyncNoop = task({ name: "bench.async-noop" }, async () => null);

async function throughput(
  factory: typeof noop | typeof asyncNoop,
): Promise<{ add: number; drain: number; total: number }> {
  const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "bench" });
  const tasks = Array.from({ length: TASKS }, () => factory());
  const started = performance.now();
  for (let i = 0; i < tasks.length; i += 1000) await queue.add(tasks.slice(i, i + 1000));
  const added = performance.now();
  const worker = new Worker(queue, { concurrency: 100, scheduler: false });
  const summary = await worker.work({ oneshot: true });
  const drained = performance.now();
  if (summary.processed !== TASKS) throw new Error(`processed ${summary.processed} of ${TASKS}`);
  await queue.close();
  return {
    add: TASKS / ((added - started) / 1000),
    drain: TASKS / ((drained - added) / 1000),
    total: TASKS / ((drained - started) / 1000),
  };
}

async function pendingFootprint(): Promise<{ heapMb: number; rssMb: number }> {
  gc();
  const before = process.memoryUsage();
  const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "footprint" });
  for (let i = 0; i < TASKS; i += 1000) {
    await queue.add(Array.from({ length: 1000 }, () => noop()));
  }
  gc();
  const after = process.memoryUsage();
  if ((await queue.size()) !== TASKS) throw new Error("footprint queue lost tasks");
  await queue.close();
  return {
    heapMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    rssMb: (after.rss - before.rss) / 2 ** 20,
  };
}

// The footprint is measured first, on a fresh heap; then one warm-up run (JIT) that is not counted.
const footprint = await pendingFootprint();
await throughput(noop);
const runs = [];
const asyncRuns = [];
for (let i = 0; i < RUNS; i++) {
  gc();
  runs.push(await throughput(noop));
  gc();
  asyncRuns.push(await throughput(asyncNoop));
}

console.log(`memory backend, ${fmt(TASKS)} no-op tasks, concurrency 100, median of ${RUNS} runs`);
console.log(`  add (batches of 1,000)   ${fmt(median(runs.map((r) => r.add)))} tasks/s`);
console.log(`  worker drain             ${fmt(median(runs.map((r) => r.drain)))} tasks/s`);
console.log(`  add + drain end to end   ${fmt(median(runs.map((r) => r.total)))} tasks/s`);
console.log(`  worker drain, async no-op ${fmt(median(asyncRuns.map((r) => r.drain)))} tasks/s`);
console.log(
  `  100,000 pending tasks:   heap +${fmt(footprint.heapMb, 1)} MB, RSS +${fmt(footprint.rssMb, 1)} MB`,
);
