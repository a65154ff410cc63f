/**
 * Sheppy on PostgreSQL against graphile-worker and pg-boss on the same
 * database, in the same process and run (`npm run bench:postgres`). Each
 * library works in a schema of its own, dropped after every run.
 *   add-single         2,000 sequential adds, each awaited
 *   add-bulk           20,000 tasks in awaited calls of 50
 *   worker-concurrent  10,000 pre-filled no-op tasks, one worker, concurrency 100
 *   latency            add → handler start at light load (p50 / p95 / p99)
 *   worker-events      Sheppy only: worker-concurrent with the event log on
 *                      (default eventCap) and off (eventCap 0), alternating
 * Each scenario runs RUNS times per library in rotating order; medians are
 * printed with Sheppy's ratio to each peer (for latency, lower is better).
 * graphile-worker runs with its local queue (batched fetch and completion);
 * pg-boss with a batch size of 100 and its shortest polling interval.
 * BENCH_LIBRARIES (e.g. `graphile-worker,pg-boss`) and BENCH_ONLY (scenarios)
 * narrow a run; BENCH_POSTGRES_URL names the database; BENCH_EVENT_CAP sets
 * Sheppy's eventCap in the other scenarios (default: the backend's default).
 */
import { Logger, makeWorkerUtils, run as runGraphile } from "graphile-worker";
import pg from "pg";
import PgBoss from "pg-boss";
import { PostgresBackend, Queue, task, Worker } from "sheppy";
import { fmt, median, percentile } from "./stats.js";

const DATABASE_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = {
  single: Number(process.env.BENCH_SINGLE ?? 2000),
  bulk: Number(process.env.BENCH_BULK ?? 20_000),
  concurrent: Number(process.env.BENCH_CONCURRENT ?? 10_000),
  latency: Number(process.env.BENCH_LATENCY ?? 1000),
};

const startTimes = new Map<number, number>();
const noop = task({ name: "bench.noop" }, () => null);
const stamp = task({ name: "bench.stamp" }, (i: number) => {
  startTimes.set(i, performance.now());
  return null;
});

let runId = 0;
const schemas: string[] = [];
function nextSchema(library: string): string {
  const schema = `bench_${library}_${process.pid}_${++runId}`;
  schemas.push(schema);
  return schema;
}

async function cleanup(): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  for (const schema of schemas.splice(0)) {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  await client.end();
}

const sheppyUrl = (schema: string) => {
  const url = new URL(DATABASE_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
};

const EVENT_CAP =
  process.env.BENCH_EVENT_CAP === undefined ? undefined : Number(process.env.BENCH_EVENT_CAP);

/** A Sheppy queue on `url`, with the event log capped at `eventCap` (absent: the backend's default). */
const sheppyQueue = (url: string, eventCap = EVENT_CAP) =>
  new Queue(new PostgresBackend({ url, ...(eventCap === undefined ? {} : { eventCap }) }), {
    name: "b",
  });

type Scenario = "add-single" | "add-bulk" | "worker-concurrent" | "latency";
interface Library {
  name: string;
  addSingle(): Promise<number>;
  addBulk(): Promise<number>;
  workerConcurrent(): Promise<number>;
  latency(): Promise<number[]>;
}

const rate = (count: number, ms: number) => count / (ms / 1000);
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

/** Sheppy's worker-concurrent run, with the event log capped at `eventCap`. */
async function sheppyWorkerConcurrent(eventCap: number | undefined): Promise<number> {
  const url = sheppyUrl(nextSchema("sheppy"));
  const queue = sheppyQueue(url, eventCap);
  for (let i = 0; i < SIZES.concurrent; i += 1000) {
    await queue.add(Array.from({ length: 1000 }, () => noop()));
  }
  const workerQueue = sheppyQueue(url, eventCap);
  await workerQueue.connect();
  const worker = new Worker(workerQueue, { concurrency: 100, scheduler: false });
  const started = performance.now();
  const summary = await worker.work({ maxTasks: SIZES.concurrent });
  const elapsed = performance.now() - started;
  if (summary.processed !== SIZES.concurrent) {
    throw new Error(`sheppy processed ${summary.processed}`);
  }
  await queue.close();
  await workerQueue.close();
  return rate(SIZES.concurrent, elapsed);
}

const sheppy: Library = {
  name: "sheppy",
  async addSingle() {
    const queue = sheppyQueue(sheppyUrl(nextSchema("sheppy")));
    await queue.connect();
    const started = performance.now();
    for (let i = 0; i < SIZES.single; i++) await queue.add(noop());
    const elapsed = performance.now() - started;
    await queue.close();
    return rate(SIZES.single, elapsed);
  },
  async addBulk() {
    const queue = sheppyQueue(sheppyUrl(nextSchema("sheppy")));
    await queue.connect();
    const started = performance.now();
    for (let i = 0; i < SIZES.bulk; i += 50) {
      await queue.add(Array.from({ length: 50 }, () => noop()));
    }
    const elapsed = performance.now() - started;
    await queue.close();
    return rate(SIZES.bulk, elapsed);
  },
  workerConcurrent: () => sheppyWorkerConcurrent(EVENT_CAP),
  async latency() {
    const url = sheppyUrl(nextSchema("sheppy"));
    const queue = sheppyQueue(url);
    const workerQueue = sheppyQueue(url);
    await queue.connect();
    const worker = new Worker(workerQueue, { concurrency: 10, scheduler: false });
    const working = worker.work();
    await settle();
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

/** graphile-worker logs every job at info: silenced, as the other libraries log nothing here. */
const quiet = new Logger(() => () => undefined);

/** graphile-worker's runner with batching on, as its performance guide recommends. */
function graphileRunner(schema: string, concurrency: number, tasks: Record<string, () => void>) {
  return runGraphile({
    connectionString: DATABASE_URL,
    schema,
    concurrency,
    noHandleSignals: true,
    logger: quiet,
    pollInterval: 2000,
    taskList: Object.fromEntries(
      Object.entries(tasks).map(([name, fn]) => [name, async () => fn()]),
    ),
    preset: {
      worker: {
        localQueue: { size: concurrency + 1 },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
  });
}

const graphile: Library = {
  name: "graphile-worker",
  async addSingle() {
    const utils = await makeWorkerUtils({
      connectionString: DATABASE_URL,
      schema: nextSchema("graphile"),
      logger: quiet,
    });
    await utils.migrate();
    const started = performance.now();
    for (let i = 0; i < SIZES.single; i++) await utils.addJob("noop", {});
    const elapsed = performance.now() - started;
    await utils.release();
    return rate(SIZES.single, elapsed);
  },
  async addBulk() {
    const utils = await makeWorkerUtils({
      connectionString: DATABASE_URL,
      schema: nextSchema("graphile"),
      logger: quiet,
    });
    await utils.migrate();
    const started = performance.now();
    for (let i = 0; i < SIZES.bulk; i += 50) {
      await utils.addJobs(Array.from({ length: 50 }, () => ({ identifier: "noop", payload: {} })));
    }
    const elapsed = performance.now() - started;
    await utils.release();
    return rate(SIZES.bulk, elapsed);
  },
  async workerConcurrent() {
    const schema = nextSchema("graphile");
    const utils = await makeWorkerUtils({ connectionString: DATABASE_URL, schema, logger: quiet });
    await utils.migrate();
    for (let i = 0; i < SIZES.concurrent; i += 1000) {
      await utils.addJobs(
        Array.from({ length: 1000 }, () => ({ identifier: "noop", payload: {} })),
      );
    }
    await utils.release();
    let completed = 0;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const started = performance.now();
    const runner = await graphileRunner(schema, 100, { noop: () => undefined });
    runner.events.on("job:success", () => {
      if (++completed === SIZES.concurrent) resolveDone();
    });
    await done;
    const elapsed = performance.now() - started;
    await runner.stop();
    return rate(SIZES.concurrent, elapsed);
  },
  async latency() {
    const schema = nextSchema("graphile");
    const utils = await makeWorkerUtils({ connectionString: DATABASE_URL, schema, logger: quiet });
    await utils.migrate();
    const starts = new Map<number, number>();
    const completions = new Map<number, () => void>();
    const runner = await runGraphile({
      connectionString: DATABASE_URL,
      schema,
      concurrency: 10,
      noHandleSignals: true,
      logger: quiet,
      pollInterval: 2000,
      taskList: {
        stamp: async (payload) => {
          starts.set((payload as { i: number }).i, performance.now());
        },
      },
      preset: { worker: { localQueue: { size: 11 } } },
    });
    runner.events.on("job:success", ({ job }) =>
      completions.get((job.payload as { i: number }).i)?.(),
    );
    await settle();
    const samples: number[] = [];
    for (let i = 0; i < SIZES.latency; i++) {
      const finished = new Promise<void>((resolve) => completions.set(i, resolve));
      const sent = performance.now();
      await utils.addJob("stamp", { i });
      await finished;
      samples.push(starts.get(i)! - sent);
    }
    await runner.stop();
    await utils.release();
    return samples;
  },
};

async function startBoss(schema: string): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: DATABASE_URL,
    schema,
    supervise: false,
    schedule: false,
  });
  boss.on("error", (error) => console.error("pg-boss:", error.message));
  await boss.start();
  await boss.createQueue("b");
  return boss;
}

const pgBoss: Library = {
  name: "pg-boss",
  async addSingle() {
    const boss = await startBoss(nextSchema("pgboss"));
    const started = performance.now();
    for (let i = 0; i < SIZES.single; i++) await boss.send("b", {});
    const elapsed = performance.now() - started;
    await boss.stop({ graceful: false });
    return rate(SIZES.single, elapsed);
  },
  async addBulk() {
    const boss = await startBoss(nextSchema("pgboss"));
    const started = performance.now();
    for (let i = 0; i < SIZES.bulk; i += 50) {
      await boss.insert(Array.from({ length: 50 }, () => ({ name: "b", data: {} })));
    }
    const elapsed = performance.now() - started;
    await boss.stop({ graceful: false });
    return rate(SIZES.bulk, elapsed);
  },
  async workerConcurrent() {
    const boss = await startBoss(nextSchema("pgboss"));
    for (let i = 0; i < SIZES.concurrent; i += 1000) {
      await boss.insert(Array.from({ length: 1000 }, () => ({ name: "b", data: {} })));
    }
    let completed = 0;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const started = performance.now();
    await boss.work("b", { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      completed += jobs.length;
      if (completed >= SIZES.concurrent) resolveDone();
    });
    await done;
    const elapsed = performance.now() - started;
    await boss.stop({ graceful: false });
    return rate(SIZES.concurrent, elapsed);
  },
  async latency() {
    const boss = await startBoss(nextSchema("pgboss"));
    const starts = new Map<number, number>();
    const completions = new Map<number, () => void>();
    await boss.work<{ i: number }>(
      "b",
      { batchSize: 10, pollingIntervalSeconds: 0.5 },
      async (jobs) => {
        for (const job of jobs) starts.set(job.data.i, performance.now());
        queueMicrotask(() => {
          for (const job of jobs) completions.get(job.data.i)?.();
        });
      },
    );
    await settle();
    const samples: number[] = [];
    for (let i = 0; i < SIZES.latency; i++) {
      const finished = new Promise<void>((resolve) => completions.set(i, resolve));
      const sent = performance.now();
      await boss.send("b", { i });
      await finished;
      samples.push(starts.get(i)! - sent);
    }
    await boss.stop({ graceful: false });
    return samples;
  },
};

const chosen = process.env.BENCH_LIBRARIES?.split(",");
// Sheppy first: ratios are Sheppy's to each peer.
const LIBRARIES = [sheppy, graphile, pgBoss].filter((lib) => !chosen || chosen.includes(lib.name));
const only = process.env.BENCH_ONLY?.split(",");
const rotation = (run: number) => LIBRARIES.map((_, i) => LIBRARIES[(i + run) % LIBRARIES.length]!);

const throughput: Record<Exclude<Scenario, "latency">, (lib: Library) => Promise<number>> = {
  "add-single": (lib) => lib.addSingle(),
  "add-bulk": (lib) => lib.addBulk(),
  "worker-concurrent": (lib) => lib.workerConcurrent(),
};

console.log(
  `PostgreSQL ${new URL(DATABASE_URL).host}; ${RUNS} runs per library, rotating; medians`,
);
for (const [scenario, measure] of Object.entries(throughput)) {
  if (only && !only.includes(scenario)) continue;
  const results = new Map<string, number[]>(LIBRARIES.map((lib) => [lib.name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const lib of rotation(run)) {
      results.get(lib.name)!.push(await measure(lib));
      await cleanup();
    }
  }
  const s = median(results.get("sheppy") ?? [Number.NaN]);
  const peers = LIBRARIES.filter((lib) => lib !== sheppy).map((lib) => {
    const value = median(results.get(lib.name)!);
    return `${lib.name} ${fmt(value).padStart(7)}/s (${fmt(s / value, 2)}×)`;
  });
  console.log(`${scenario.padEnd(18)} sheppy ${fmt(s).padStart(7)}/s   ${peers.join("   ")}`);
}
if (!only || only.includes("worker-events")) {
  const on: number[] = [];
  const off: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternating which goes first, so neither always runs on a warmer server.
    for (const cap of run % 2 === 0 ? [undefined, 0] : [0, undefined]) {
      (cap === 0 ? off : on).push(await sheppyWorkerConcurrent(cap));
      await cleanup();
    }
  }
  const [withLog, withoutLog] = [median(on), median(off)];
  console.log(
    `${"worker-events".padEnd(18)} sheppy log on ${fmt(withLog).padStart(7)}/s   log off (eventCap 0) ${fmt(withoutLog).padStart(7)}/s   (${fmt((1 - withLog / withoutLog) * 100, 1)}% slower with the log)`,
  );
}
if (!only || only.includes("latency")) {
  const all = new Map<string, number[][]>(LIBRARIES.map((lib) => [lib.name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const lib of rotation(run)) {
      all.get(lib.name)!.push(await lib.latency());
      await cleanup();
    }
  }
  for (const p of [50, 95, 99]) {
    const at = (name: string) =>
      median((all.get(name) ?? [[Number.NaN]]).map((samples) => percentile(samples, p)));
    const s = at("sheppy");
    const peers = LIBRARIES.filter((lib) => lib !== sheppy).map(
      (lib) => `${lib.name} ${fmt(at(lib.name), 2).padStart(7)} ms (${fmt(s / at(lib.name), 2)}×)`,
    );
    console.log(
      `${`latency p${p}`.padEnd(18)} sheppy ${fmt(s, 2).padStart(7)} ms   ${peers.join("   ")}`,
    );
  }
}
process.exit(0);
