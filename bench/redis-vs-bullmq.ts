/**
 * Sheppy on Redis against BullMQ on the same Redis, in the same process and
 * run (`npm run bench:redis`). Scenarios follow BullMQ's own benchmark:
 *   add-single         5,000 sequential adds, each awaited
 *   add-bulk           50,000 tasks in awaited calls of 50
 *   add-concurrent     10,000 adds by 100 concurrent producers, each awaiting
 *                      one add after the other (a web server's shape)
 *   worker-concurrent  20,000 pre-filled no-op tasks, one worker, concurrency 100
 *   worker-fair        Sheppy only: the same 20,000 tasks over 100 concurrency keys
 *                      (limit 1 each), against Sheppy's plain worker-concurrent run
 *   worker-events      Sheppy only: worker-concurrent with the event log on (default
 *                      cap) against the same with it off (eventCap 0)
 *   worker-traced      Sheppy only: worker-concurrent with an OpenTelemetry SDK
 *                      registered (BasicTracerProvider, BatchSpanProcessor, an
 *                      exporter that drops), adds traced too, against the same
 *                      run without an SDK
 *   latency            add → handler start at light load, 5,000 samples (p50 / p95 / p99)
 *   server-cpu         Redis server CPU per task over a worker-concurrent run (bulk
 *                      adds, claims, settles): INFO commandstats' usec (INFO left
 *                      out; a script's commands count twice there), and the main
 *                      thread's CPU time from INFO CPU (each command once, with the
 *                      reading and parsing of requests that commandstats leaves out)
 *   memory             Redis bytes per task: INFO memory's used_memory after adding
 *                      BENCH_MEMORY (10,000) no-op tasks in calls of 1,000 (pending)
 *                      and after a worker has run them all (finished, default retention),
 *                      each against the empty queue's figure
 * Each scenario runs RUNS times per library, alternating — the add and
 * worker-concurrent scenarios after one uncounted run of each, since both
 * libraries' figures rise over their first runs as the JIT warms up; medians
 * are printed with the ratio Sheppy / BullMQ (for latency, lower is better),
 * and for throughput each library's runs too. worker-fair
 * alternates Sheppy's keyed and plain runs and prints the cost of fairness
 * (plain / fair tasks per second); worker-events alternates runs with the
 * event log on and off and prints its overhead (off / on − 1, in %);
 * worker-traced alternates traced and
 * untraced runs and prints the overhead of tracing (untraced / traced − 1).
 * Those three compare Sheppy with itself, so each first runs both of its
 * variants once uncounted: the first drain of a process is the JIT's.
 * BENCH_ONLY=<scenario,…> runs only those.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Queue as BullQueue, Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { fmt, median, percentile } from "./stats.js";

const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = {
  single: Number(process.env.BENCH_SINGLE ?? 5000),
  bulk: Number(process.env.BENCH_BULK ?? 50_000),
  concurrentAdds: Number(process.env.BENCH_CONCURRENT_ADDS ?? 10_000),
  concurrent: Number(process.env.BENCH_CONCURRENT ?? 20_000),
  // 5,000 per run: fewer leave p99 to a handful of samples, and it swings from run to run.
  latency: Number(process.env.BENCH_LATENCY ?? 5000),
  memory: Number(process.env.BENCH_MEMORY ?? 10_000),
  /** Concurrency keys of worker-fair (limit 1 each), over SIZES.concurrent tasks. */
  fairKeys: Number(process.env.BENCH_FAIR_KEYS ?? 100),
};
const connection = (() => {
  const url = new URL(REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
})();

const startTimes = new Map<number, number>();
const noop = task({ name: "bench.noop" }, () => null);
/** A no-op whose argument is its concurrency key (limit 1). */
const fairNoop = task(
  { name: "bench.fair-noop", concurrency: { key: (key: string) => key, limit: 1 } },
  (_key: string) => null,
);
const stamp = task({ name: "bench.stamp" }, (i: number) => {
  startTimes.set(i, performance.now());
  return null;
});

let runId = 0;
const prefixes: string[] = [];
function nextPrefix(library: string): string {
  const prefix = `bench-${library}-${process.pid}-${++runId}`;
  prefixes.push(prefix);
  return prefix;
}

async function cleanup(): Promise<void> {
  const client = new Redis(REDIS_URL);
  for (const prefix of prefixes.splice(0)) {
    for (const pattern of [`{${prefix}:*`, `${prefix}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        if (keys.length) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
    }
  }
  client.disconnect();
}

/**
 * Runs `a` and `b` RUNS times each, alternating (a b, b a, a b…), after one
 * uncounted run of each: without it the first run (whichever variant it is)
 * also pays the JIT's warm-up, a fifth or more of a drain here, and that
 * lands on one side only.
 */
async function alternated<T>(a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  await a();
  await cleanup();
  await b();
  await cleanup();
  const first: T[] = [];
  const second: T[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const isA of run % 2 === 0 ? [true, false] : [false, true]) {
      (isA ? first : second).push(await (isA ? a : b)());
      await cleanup();
    }
  }
  return [first, second];
}

type Scenario =
  | "add-single"
  | "add-bulk"
  | "add-concurrent"
  | "worker-concurrent"
  | "worker-fair"
  | "worker-events"
  | "worker-traced"
  | "latency"
  | "server-cpu"
  | "memory";
interface Library {
  name: string;
  addSingle(): Promise<number>;
  addBulk(): Promise<number>;
  addConcurrent(): Promise<number>;
  workerConcurrent(): Promise<number>;
  latency(): Promise<number[]>;
  /** Bytes per task the server holds with SIZES.memory tasks pending, then finished. */
  memory(): Promise<{ pending: number; finished: number }>;
}

/** A connection for INFO, apart from the libraries' own. */
const admin = new Redis(REDIS_URL);

/**
 * The server's time in commands so far (µs), INFO's own calls left out.
 * Redis counts a command a script runs twice here — in the script's own
 * time and again on that command's line — so this overstates the work of
 * scripts that run many commands; {@link serverThreadUs} does not.
 */
async function serverCommandUs(): Promise<number> {
  const text = await admin.info("commandstats");
  let total = 0;
  for (const [, name, usec] of text.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)) {
    if (name !== "info") total += Number(usec);
  }
  return total;
}

/**
 * The CPU time Redis's main thread has used so far (µs, INFO CPU): every
 * command once, plus what commandstats leaves out — reading, parsing and
 * answering each request. Counts anything else the server does too, so the
 * run should have the server to itself.
 */
async function serverThreadUs(): Promise<number> {
  const text = await admin.info("cpu");
  const seconds = (field: string) =>
    Number(new RegExp(`^${field}:([\\d.]+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return (seconds("used_cpu_user_main_thread") + seconds("used_cpu_sys_main_thread")) * 1e6;
}

/** The server's used_memory now (bytes), once its lazy frees have run. */
async function usedMemory(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const info = await admin.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

const rate = (count: number, ms: number) => count / (ms / 1000);

/** PRODUCERS loops, each awaiting `add()` until SIZES.concurrentAdds adds were made; adds per second. */
async function concurrentProducers(add: () => Promise<unknown>): Promise<number> {
  const PRODUCERS = 100;
  let left = SIZES.concurrentAdds;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (left > 0) {
        left--;
        await add();
      }
    }),
  );
  return rate(SIZES.concurrentAdds, performance.now() - started);
}

const sheppy: Library = {
  name: "sheppy",
  async addSingle() {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix: nextPrefix("sheppy") }), {
      name: "b",
    });
    await queue.connect();
    const started = performance.now();
    for (let i = 0; i < SIZES.single; i++) await queue.add(noop());
    const elapsed = performance.now() - started;
    await queue.close();
    return rate(SIZES.single, elapsed);
  },
  async addBulk() {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix: nextPrefix("sheppy") }), {
      name: "b",
    });
    await queue.connect();
    const started = performance.now();
    for (let i = 0; i < SIZES.bulk; i += 50)
      await queue.add(Array.from({ length: 50 }, () => noop()));
    const elapsed = performance.now() - started;
    await queue.close();
    return rate(SIZES.bulk, elapsed);
  },
  async addConcurrent() {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix: nextPrefix("sheppy") }), {
      name: "b",
    });
    await queue.connect();
    const perSecond = await concurrentProducers(() => queue.add(noop()));
    await queue.close();
    return perSecond;
  },
  async workerConcurrent() {
    return (await sheppyWorkerRun(null)).rate;
  },
  async memory() {
    const prefix = nextPrefix("sheppy");
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "b" });
    await queue.connect();
    await queue.size();
    const empty = await usedMemory();
    for (let i = 0; i < SIZES.memory; i += 1000) {
      await queue.add(Array.from({ length: 1000 }, () => noop()));
    }
    const pending = await usedMemory();
    const worker = new Worker(queue, { concurrency: 100, scheduler: false });
    const summary = await worker.work({ maxTasks: SIZES.memory });
    if (summary.processed !== SIZES.memory) throw new Error(`sheppy ran ${summary.processed}`);
    const finished = await usedMemory();
    await queue.close();
    return {
      pending: (pending - empty) / SIZES.memory,
      finished: (finished - empty) / SIZES.memory,
    };
  },
  async latency() {
    const prefix = nextPrefix("sheppy");
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "b" });
    const workerQueue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "b" });
    await queue.connect();
    const worker = new Worker(workerQueue, { concurrency: 10, scheduler: false });
    const working = worker.work();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const samples: number[] = [];
    for (let i = 0; i < SIZES.latency; i++) {
      startTimes.delete(i);
      const t = stamp(i);
      const sent = performance.now();
      await queue.add(t);
      await queue.waitFor(t);
      samples.push(startTimes.get(i)! - sent);
    }
    await worker.close();
    await working;
    await queue.close();
    await workerQueue.close();
    return samples;
  },
};

/**
 * Registers an OpenTelemetry SDK the way an application does (provider,
 * context manager, W3C propagator), its spans batched to an exporter that
 * drops them: what is measured is Sheppy's cost of making spans, not an
 * exporter's. Returns the function that unregisters it.
 */
function registerTracing(): () => Promise<void> {
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({
        export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
        shutdown: () => Promise.resolve(),
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  };
}

/**
 * Sheppy's worker-concurrent run: SIZES.concurrent pre-filled no-op tasks, one
 * worker of concurrency 100. With `keys`, the tasks are spread round-robin over
 * that many concurrency keys of limit 1 (worker-fair); afterwards no key may
 * still hold a slot or a held task. `traced`: with an SDK registered for the
 * whole run, the adds included (worker-traced). `eventCap` sets both
 * backends' event log (absent: the default cap; 0: off; worker-events).
 */
/**
 * What one bare span (start and end, no attributes, no context switch) costs
 * this process under the same SDK, in µs: the floor under Sheppy's
 * per-attempt cost, which no instrumentation of one span per task goes below.
 */
async function bareSpanUs(): Promise<number> {
  const untrace = registerTracing();
  const tracer = trace.getTracer("bench");
  for (let i = 0; i < 10_000; i++) tracer.startSpan("warm-up").end();
  const cpu = process.cpuUsage();
  for (let i = 0; i < SIZES.concurrent; i++) tracer.startSpan("bare").end();
  const { user, system } = process.cpuUsage(cpu);
  await untrace();
  return (user + system) / SIZES.concurrent;
}

async function sheppyWorkerRun(
  keys: number | null,
  traced = false,
  eventCap?: number,
): Promise<WorkerRun> {
  const untrace = traced ? registerTracing() : undefined;
  try {
    return await timedWorkerRun(keys, eventCap);
  } finally {
    await untrace?.();
  }
}

/** A worker run's tasks per second, and this process's CPU time per task (µs): on a busy machine the steadier figure. */
interface WorkerRun {
  readonly rate: number;
  readonly cpuPerTaskUs: number;
}

async function timedWorkerRun(keys: number | null, eventCap?: number): Promise<WorkerRun> {
  const prefix = nextPrefix("sheppy");
  const options = { url: REDIS_URL, prefix, ...(eventCap === undefined ? {} : { eventCap }) };
  const queue = new Queue(new RedisBackend(options), { name: "b" });
  for (let i = 0; i < SIZES.concurrent; i += 1000) {
    await queue.add(
      Array.from({ length: 1000 }, (_, j) =>
        keys === null ? noop() : fairNoop(`k${(i + j) % keys}`),
      ),
    );
  }
  const workerQueue = new Queue(new RedisBackend(options), { name: "b" });
  await workerQueue.connect();
  const worker = new Worker(workerQueue, { concurrency: 100, scheduler: false });
  const started = performance.now();
  const cpu = process.cpuUsage();
  const summary = await worker.work({ maxTasks: SIZES.concurrent });
  const elapsed = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  if (summary.processed !== SIZES.concurrent)
    throw new Error(`sheppy processed ${summary.processed}`);
  if (keys !== null) {
    const client = new Redis(REDIS_URL);
    const tag = `{${prefix}:b}`;
    const [slots, held] = await Promise.all([
      client.hlen(`${tag}:pending:slots`),
      client.get(`${tag}:pending:heldn`),
    ]);
    client.disconnect();
    if (slots !== 0 || Number(held ?? 0) !== 0)
      throw new Error(`worker-fair left ${slots} keys with slots and ${held} held tasks`);
  }
  await queue.close();
  await workerQueue.close();
  return {
    rate: rate(SIZES.concurrent, elapsed),
    cpuPerTaskUs: (user + system) / SIZES.concurrent,
  };
}

const bullmq: Library = {
  name: "bullmq",
  async addSingle() {
    const queue = new BullQueue("b", { connection, prefix: nextPrefix("bull") });
    await queue.waitUntilReady();
    const started = performance.now();
    for (let i = 0; i < SIZES.single; i++) await queue.add("noop", {});
    const elapsed = performance.now() - started;
    await queue.close();
    return rate(SIZES.single, elapsed);
  },
  async addBulk() {
    const queue = new BullQueue("b", { connection, prefix: nextPrefix("bull") });
    await queue.waitUntilReady();
    const started = performance.now();
    for (let i = 0; i < SIZES.bulk; i += 50) {
      await queue.addBulk(Array.from({ length: 50 }, () => ({ name: "noop", data: {} })));
    }
    const elapsed = performance.now() - started;
    await queue.close();
    return rate(SIZES.bulk, elapsed);
  },
  async addConcurrent() {
    const queue = new BullQueue("b", { connection, prefix: nextPrefix("bull") });
    await queue.waitUntilReady();
    const perSecond = await concurrentProducers(() => queue.add("noop", {}));
    await queue.close();
    return perSecond;
  },
  async workerConcurrent() {
    const prefix = nextPrefix("bull");
    const queue = new BullQueue("b", { connection, prefix });
    for (let i = 0; i < SIZES.concurrent; i += 1000) {
      await queue.addBulk(Array.from({ length: 1000 }, () => ({ name: "noop", data: {} })));
    }
    let completed = 0;
    const worker = new BullWorker("b", async () => null, {
      connection,
      prefix,
      concurrency: 100,
      autorun: false,
    });
    const done = new Promise<void>((resolve) => {
      worker.on("completed", () => {
        if (++completed === SIZES.concurrent) resolve();
      });
    });
    const started = performance.now();
    void worker.run();
    await done;
    const elapsed = performance.now() - started;
    // Closed before the next run starts, as Sheppy's worker is: nothing of this run competes with it.
    await worker.close();
    await queue.close();
    return rate(SIZES.concurrent, elapsed);
  },
  async memory() {
    const prefix = nextPrefix("bull");
    const queue = new BullQueue("b", { connection, prefix });
    await queue.waitUntilReady();
    const empty = await usedMemory();
    for (let i = 0; i < SIZES.memory; i += 1000) {
      await queue.addBulk(Array.from({ length: 1000 }, () => ({ name: "noop", data: {} })));
    }
    const pending = await usedMemory();
    let completed = 0;
    await new Promise<void>((resolve) => {
      const worker = new BullWorker("b", async () => null, {
        connection,
        prefix,
        concurrency: 100,
      });
      worker.on("completed", () => {
        if (++completed === SIZES.memory) void worker.close().then(() => resolve());
      });
    });
    const finished = await usedMemory();
    await queue.close();
    return {
      pending: (pending - empty) / SIZES.memory,
      finished: (finished - empty) / SIZES.memory,
    };
  },
  async latency() {
    const prefix = nextPrefix("bull");
    const queue = new BullQueue("b", { connection, prefix });
    const starts = new Map<number, number>();
    const completions = new Map<number, () => void>();
    const worker = new BullWorker(
      "b",
      async (job) => {
        starts.set(job.data.i as number, performance.now());
        return null;
      },
      { connection, prefix, concurrency: 10 },
    );
    worker.on("completed", (job) => completions.get(job.data.i as number)?.());
    await worker.waitUntilReady();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const samples: number[] = [];
    for (let i = 0; i < SIZES.latency; i++) {
      const finished = new Promise<void>((resolve) => completions.set(i, resolve));
      const sent = performance.now();
      await queue.add("stamp", { i });
      await finished;
      samples.push(starts.get(i)! - sent);
    }
    await worker.close();
    await queue.close();
    return samples;
  },
};

const throughput: Record<
  Exclude<
    Scenario,
    "latency" | "worker-fair" | "worker-events" | "worker-traced" | "server-cpu" | "memory"
  >,
  (lib: Library) => Promise<number>
> = {
  "add-single": (lib) => lib.addSingle(),
  "add-bulk": (lib) => lib.addBulk(),
  "add-concurrent": (lib) => lib.addConcurrent(),
  "worker-concurrent": (lib) => lib.workerConcurrent(),
};

const only = process.env.BENCH_ONLY?.split(",");
console.log(`Redis ${REDIS_URL}; ${RUNS} runs per library, alternating; medians`);
for (const [scenario, measure] of Object.entries(throughput)) {
  if (only && !only.includes(scenario)) continue;
  const results: Record<string, number[]> = { sheppy: [], bullmq: [] };
  for (const lib of [sheppy, bullmq]) {
    await measure(lib);
    await cleanup();
  }
  for (let run = 0; run < RUNS; run++) {
    for (const lib of run % 2 === 0 ? [sheppy, bullmq] : [bullmq, sheppy]) {
      results[lib.name]!.push(await measure(lib));
      await cleanup();
    }
  }
  const s = median(results.sheppy!);
  const b = median(results.bullmq!);
  const runs = (lib: string) => results[lib]!.map((r) => fmt(r)).join(", ");
  console.log(
    `${scenario.padEnd(18)} sheppy ${fmt(s).padStart(8)}/s   bullmq ${fmt(b).padStart(8)}/s   ratio ${fmt(s / b, 2)}×   (runs/s ${runs("sheppy")}; ${runs("bullmq")})`,
  );
}
if (!only || only.includes("worker-fair")) {
  // Sheppy only: keyed and plain runs alternate, so both see the same machine.
  const [fair, plain] = await alternated(
    () => sheppyWorkerRun(SIZES.fairKeys),
    () => sheppyWorkerRun(null),
  );
  const f = median(fair.map((r) => r.rate));
  const p = median(plain.map((r) => r.rate));
  console.log(
    `${"worker-fair".padEnd(18)} sheppy ${fmt(f).padStart(8)}/s   plain ${fmt(p).padStart(8)}/s   cost of fairness ${fmt(p / f, 2)}× (plain / fair; ${SIZES.fairKeys} keys, limit 1)`,
  );
}
if (!only || only.includes("worker-events")) {
  // Sheppy only: runs with the log on and off alternate, so both see the same machine.
  const [on, off] = await alternated(
    () => sheppyWorkerRun(null, false),
    () => sheppyWorkerRun(null, false, 0),
  );
  const e = median(on.map((r) => r.rate));
  const o = median(off.map((r) => r.rate));
  const eCpu = median(on.map((r) => r.cpuPerTaskUs));
  const oCpu = median(off.map((r) => r.cpuPerTaskUs));
  console.log(
    `${"worker-events".padEnd(18)} sheppy ${fmt(e).padStart(8)}/s   log off ${fmt(o).padStart(8)}/s   event log overhead ${fmt((o / e - 1) * 100, 1)} % (off / on − 1)`,
  );
  // Throughput moves with whatever else the machine runs; CPU time per task is this process's own.
  console.log(
    `${"".padEnd(18)} CPU per task: log on ${fmt(eCpu, 1)} µs, off ${fmt(oCpu, 1)} µs (runs/s on ${on.map((r) => fmt(r.rate)).join(", ")}; off ${off.map((r) => fmt(r.rate)).join(", ")})`,
  );
}
if (!only || only.includes("worker-traced")) {
  // Sheppy only: traced and untraced runs alternate, so both see the same machine.
  const [traced, plain] = await alternated(
    () => sheppyWorkerRun(null, true),
    () => sheppyWorkerRun(null, false),
  );
  const t = median(traced.map((r) => r.rate));
  const p = median(plain.map((r) => r.rate));
  const floor = await bareSpanUs();
  const tCpu = median(traced.map((r) => r.cpuPerTaskUs));
  const pCpu = median(plain.map((r) => r.cpuPerTaskUs));
  console.log(
    `${"worker-traced".padEnd(18)} sheppy ${fmt(t).padStart(8)}/s   untraced ${fmt(p).padStart(8)}/s   overhead ${fmt((p / t - 1) * 100, 1)} %`,
  );
  // Throughput moves with whatever else the machine runs; CPU time per task is this process's own.
  console.log(
    `${"".padEnd(18)} CPU per task: traced ${fmt(tCpu, 1)} µs, untraced ${fmt(pCpu, 1)} µs, overhead ${fmt((tCpu / pCpu - 1) * 100, 1)} %; one bare SDK span ${fmt(floor, 1)} µs (runs/s traced ${traced.map((r) => fmt(r.rate)).join(", ")}; untraced ${plain.map((r) => fmt(r.rate)).join(", ")})`,
  );
}
if (!only || only.includes("latency")) {
  const all: Record<string, number[][]> = { sheppy: [], bullmq: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const lib of run % 2 === 0 ? [sheppy, bullmq] : [bullmq, sheppy]) {
      all[lib.name]!.push(await lib.latency());
      await cleanup();
    }
  }
  for (const p of [50, 95, 99]) {
    const s = median(all.sheppy!.map((samples) => percentile(samples, p)));
    const b = median(all.bullmq!.map((samples) => percentile(samples, p)));
    console.log(
      `latency p${p}`.padEnd(18) +
        ` sheppy ${fmt(s, 2).padStart(6)} ms   bullmq ${fmt(b, 2).padStart(6)} ms   ratio ${fmt(s / b, 2)}× (lower is better)`,
    );
  }
}
if (!only || only.includes("server-cpu")) {
  // The server's own CPU per task over a whole worker-concurrent run (adds, claims, settles).
  const perTask: Record<string, number[]> = { sheppy: [], bullmq: [] };
  const threadPerTask: Record<string, number[]> = { sheppy: [], bullmq: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const lib of run % 2 === 0 ? [sheppy, bullmq] : [bullmq, sheppy]) {
      const before = await serverCommandUs();
      const threadBefore = await serverThreadUs();
      await lib.workerConcurrent();
      perTask[lib.name]!.push(((await serverCommandUs()) - before) / SIZES.concurrent);
      threadPerTask[lib.name]!.push(((await serverThreadUs()) - threadBefore) / SIZES.concurrent);
      await cleanup();
    }
  }
  const s = median(perTask.sheppy!);
  const b = median(perTask.bullmq!);
  console.log(
    `${"server-cpu".padEnd(18)} sheppy ${fmt(s, 1).padStart(6)} µs/task   bullmq ${fmt(b, 1).padStart(6)} µs/task   ratio ${fmt(s / b, 2)}× (lower is better; INFO commandstats, a script's commands counted twice)`,
  );
  const st = median(threadPerTask.sheppy!);
  const bt = median(threadPerTask.bullmq!);
  console.log(
    `${"".padEnd(18)} sheppy ${fmt(st, 1).padStart(6)} µs/task   bullmq ${fmt(bt, 1).padStart(6)} µs/task   ratio ${fmt(st / bt, 2)}× (lower is better; INFO CPU, Redis's main thread)`,
  );
}
if (!only || only.includes("memory")) {
  const pending: Record<string, number[]> = { sheppy: [], bullmq: [] };
  const finished: Record<string, number[]> = { sheppy: [], bullmq: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const lib of run % 2 === 0 ? [sheppy, bullmq] : [bullmq, sheppy]) {
      const bytes = await lib.memory();
      pending[lib.name]!.push(bytes.pending);
      finished[lib.name]!.push(bytes.finished);
      await cleanup();
    }
  }
  for (const [label, figures] of [
    ["memory pending", pending],
    ["memory finished", finished],
  ] as const) {
    const s = median(figures.sheppy!);
    const b = median(figures.bullmq!);
    console.log(
      `${label.padEnd(18)} sheppy ${fmt(s).padStart(6)} B/task    bullmq ${fmt(b).padStart(6)} B/task    ratio ${fmt(s / b, 2)}× (lower is better; used_memory over ${fmt(SIZES.memory)} tasks)`,
    );
  }
}
admin.disconnect();
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(`process RSS after the run: ${fmt(rss)} MB (both libraries)`);
process.exit(0);
