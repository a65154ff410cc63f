/**
 * Durable workflows on Redis (`npm run bench:workflows`). Per run, alternating
 * which goes first:
 *   workflows  WORKFLOWS (1,000) workflows of three sequential steps (no-op
 *              tasks), added 100 at a time in parallel, then drained by one
 *              worker (concurrency 100) until all have completed: 3,000
 *              steps and 3,000 resume tasks
 *   plain      as many no-op tasks as the workflows have steps (3,000), added
 *              in calls of 1,000, drained by the same kind of worker
 * The end of a drain is seen by `waitForWorkflow` / `waitFor` on the whole
 * list (the producer's queue, in this process), and, in a second pair of
 * drains, by the worker's own events. Each drain uses fresh keys (a prefix of
 * its own), deleted afterwards. Prints
 * medians of RUNS runs: throughput (the machine is shared: quote the ratio of
 * workflow steps/s to plain tasks/s, measured side by side), the commands the
 * library's ioredis clients send (counted in this process by wrapping
 * `Redis.prototype.sendCommand`: the worker's clients apart from the waiting
 * producer's, script calls by script), the server's `INFO commandstats`
 * delta (server-wide: inside-script commands included, and other clients'
 * traffic if the server has any), attempt times of steps and resumes, when
 * workflows finished, and the gap between one step's end and the next one's
 * start. Environment: BENCH_REDIS_URL, BENCH_RUNS (3), BENCH_WORKFLOWS
 * (1,000), BENCH_WAIT (`list,events`: each scenario is run both ways, its
 * end seen by a waiter on the whole list and by the worker's own events; the
 * difference is the waiter's cost, which shares this process and Redis).
 */
import { type Command, Redis } from "ioredis";
import { Queue, step, type Task, task, Worker, type Workflow, workflow } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { fmt, median, percentile } from "./stats.js";

const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 1000);
const STEPS = 3 * WORKFLOWS;
const CONCURRENCY = 100;
const WAIT_TIMEOUT_S = 600;
/**
 * How the end of a drain is seen: `list` (waitFor / waitForWorkflow on the
 * whole list, as a producer would) or `events` (the worker's own events: no
 * waiter, so the worker's cost alone). Both by default.
 */
type Wait = "list" | "events";
const WAITS = (process.env.BENCH_WAIT ?? "list,events").split(",") as Wait[];
if (WAITS.length === 0 || WAITS.some((w) => w !== "list" && w !== "events"))
  throw new Error(`BENCH_WAIT must be list, events or list,events (got ${process.env.BENCH_WAIT})`);

// ---------------------------------------------------------------------------
// Counting the commands this process's ioredis clients send. Every command
// goes through `Redis.prototype.sendCommand`, a pipelined one with the
// pipeline's own stream (one write, so one round trip, per pipeline). The
// backends are told apart by the connection name given in `redisOptions`,
// which ioredis copies to every connection a backend opens.

const WORKER = "sheppy-bench-worker";
const WAITER = "sheppy-bench-waiter";

interface Tally {
  /** Commands by name; script calls as `script <name>`. */
  readonly commands: Map<string, number>;
  /** Commands sent alone plus pipelines (each written at once). */
  roundTrips: number;
}

const tallies = new Map<string, Tally>();
let counting = false;
const seenPipelines = new WeakSet<object>();
const scriptNames = new Map<string, string>();

function tallyOf(role: string): Tally {
  let tally = tallies.get(role);
  if (!tally) {
    tally = { commands: new Map(), roundTrips: 0 };
    tallies.set(role, tally);
  }
  return tally;
}

function scriptName(client: Redis, sha: unknown): string {
  const known = scriptNames.get(String(sha));
  if (known) return known;
  const scripts = (client as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet;
  for (const [name, script] of Object.entries(scripts))
    scriptNames.set(script.sha, name.replace(/^sheppy_/, ""));
  return scriptNames.get(String(sha)) ?? "unknown";
}

const proto = Redis.prototype as unknown as {
  sendCommand(this: Redis, command: Command, stream?: { isPipeline?: boolean }): unknown;
};
const sendCommand = proto.sendCommand;
proto.sendCommand = function (this: Redis, command, stream) {
  if (counting) {
    const tally = tallyOf(this.options.connectionName ?? "other");
    const name =
      command.name === "evalsha" ? `script ${scriptName(this, command.args[0])}` : command.name;
    tally.commands.set(name, (tally.commands.get(name) ?? 0) + 1);
    if (!stream?.isPipeline) tally.roundTrips++;
    else if (!seenPipelines.has(stream)) {
      seenPipelines.add(stream);
      tally.roundTrips++;
    }
  }
  return sendCommand.call(this, command, stream);
};

function takeTallies(): Map<string, Tally> {
  const taken = new Map(tallies);
  tallies.clear();
  return taken;
}

const commandCount = (tally: Tally | undefined) =>
  tally ? [...tally.commands.values()].reduce((a, b) => a + b, 0) : 0;
const scriptCount = (tally: Tally | undefined) =>
  tally
    ? [...tally.commands].filter(([n]) => n.startsWith("script ")).reduce((a, [, c]) => a + c, 0)
    : 0;

// ---------------------------------------------------------------------------
// The server's view: INFO commandstats before and after a drain.

interface ServerStats {
  calls: Map<string, number>;
  usec: Map<string, number>;
}

let admin: Redis;

async function serverStats(): Promise<ServerStats> {
  const text = await admin.info("commandstats");
  const stats: ServerStats = { calls: new Map(), usec: new Map() };
  for (const line of text.split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (!match) continue;
    stats.calls.set(match[1]!, Number(match[2]));
    stats.usec.set(match[1]!, Number(match[3]));
  }
  return stats;
}

/** The difference, without the INFO calls this benchmark makes. */
function serverDelta(before: ServerStats, after: ServerStats): ServerStats {
  const delta: ServerStats = { calls: new Map(), usec: new Map() };
  for (const [name, calls] of after.calls) {
    if (name === "info") continue;
    const d = calls - (before.calls.get(name) ?? 0);
    if (d === 0) continue;
    delta.calls.set(name, d);
    delta.usec.set(name, after.usec.get(name)! - (before.usec.get(name) ?? 0));
  }
  return delta;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------
// Tasks, the workflow, and one run of each scenario.

const noop = task({ name: "bench.noop" }, () => null);
const first = task({ name: "bench.wf.first" }, (x: number) => x + 1);
const second = task({ name: "bench.wf.second" }, (x: number) => x + 1);
const third = task({ name: "bench.wf.third" }, (x: number) => x + 1);
const threeSteps = workflow({ name: "bench.three-steps" }, function* (x: number) {
  const a = yield* step(first(x));
  const b = yield* step(second(a.result!));
  const c = yield* step(third(b.result!));
  return c.result;
});

let runId = 0;
const prefixes: string[] = [];
function nextPrefix(): string {
  const prefix = `bench-wf-${process.pid}-${++runId}`;
  prefixes.push(prefix);
  return prefix;
}

async function cleanup(): Promise<void> {
  for (const prefix of prefixes.splice(0)) {
    for (const pattern of [`{${prefix}:*`, `${prefix}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await admin.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        if (keys.length) await admin.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
    }
  }
}

interface Measured {
  addS: number;
  drainS: number;
  /** CPU time this process used during the drain (µs). */
  cpuUs: number;
  /** Commands sent during the drain, by role (worker, waiter). */
  drain: Map<string, Tally>;
  /** Commands sent while adding (the producer, which later waits). */
  add: Map<string, Tally>;
  server: ServerStats;
  /** Per kind of task (plain, step, resume): attempt run times, and claim handed over → outcome stored (ms). */
  attempts: Map<string, { runMs: number[]; landMs: number[] }>;
  /** Workflows only: ms from the drain's start to each one's finish, and from a step's end to the next one's start. */
  durationsMs?: number[];
  gapsMs?: number[];
}

function queuePair(): { producer: Queue; workerQueue: Queue } {
  const prefix = nextPrefix();
  const open = (connectionName: string) =>
    new Queue(new RedisBackend({ url: REDIS_URL, prefix, redisOptions: { connectionName } }), {
      name: "wf",
    });
  return { producer: open(WAITER), workerQueue: open(WORKER) };
}

/** Runs the worker until `wait` resolves; counts commands and server stats meanwhile. */
async function drain<T>(
  workerQueue: Queue,
  mode: Wait,
  wait: () => Promise<T>,
): Promise<{
  cpuUs: number;
  drainS: number;
  drainStartedAt: number;
  drain: Map<string, Tally>;
  server: ServerStats;
  attempts: Measured["attempts"];
  waited: T;
}> {
  const before = await serverStats();
  takeTallies();
  counting = true;
  const drainStartedAt = Date.now();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = new Worker(workerQueue, { concurrency: CONCURRENCY, scheduler: false });
  const attempts: Measured["attempts"] = new Map();
  const startedAt = new Map<string, number>();
  worker.on("task:started", ({ task }) => startedAt.set(task.id, performance.now()));
  worker.on("task:completed", ({ task, durationMs }) => {
    const kind = task.name.startsWith("workflow:")
      ? "resume"
      : task.name === noop.taskName
        ? "plain"
        : "step";
    const times = attempts.get(kind) ?? { runMs: [], landMs: [] };
    attempts.set(kind, times);
    times.runMs.push(durationMs);
    times.landMs.push(performance.now() - startedAt.get(task.id)!);
  });
  // The end, when the worker's events tell it: every plain task, or the resume that completes each workflow.
  let ended = 0;
  let allEnded = () => {};
  const untilAllEnded = new Promise<void>((resolve) => {
    allEnded = resolve;
  });
  worker.on("task:completed", ({ task }) => {
    const last =
      task.name === noop.taskName ||
      (task.result as { workflow?: string } | null)?.workflow === "completed";
    if (last && ++ended === (task.name === noop.taskName ? STEPS : WORKFLOWS)) allEnded();
  });
  const working = worker.work();
  // Seen by events, the list is read once after the clock stopped, to check the results.
  const waited = mode === "events" ? undefined : await wait();
  if (mode === "events") await untilAllEnded;
  const drainS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  counting = false;
  const counted = takeTallies();
  const after = await serverStats();
  await worker.close();
  const summary = await working;
  if (summary.failed > 0) throw new Error(`the worker failed ${summary.failed} tasks`);
  return {
    cpuUs: used.user + used.system,
    drainS,
    drainStartedAt,
    drain: counted,
    server: serverDelta(before, after),
    attempts,
    waited: waited ?? (await wait()),
  };
}

async function plainRun(mode: Wait): Promise<Measured> {
  const { producer, workerQueue } = queuePair();
  await producer.connect();
  await workerQueue.connect();
  const tasks = Array.from({ length: STEPS }, () => noop());
  counting = true;
  const started = performance.now();
  for (let i = 0; i < tasks.length; i += 1000) await producer.add(tasks.slice(i, i + 1000));
  const addS = (performance.now() - started) / 1000;
  counting = false;
  const add = takeTallies();
  const result = await drain(workerQueue, mode, () =>
    producer.waitFor(tasks as readonly Task[], { timeout: WAIT_TIMEOUT_S }),
  );
  if (result.waited.some((t) => t.status !== "completed")) throw new Error("a plain task failed");
  await producer.close();
  await workerQueue.close();
  return { addS, add, ...result };
}

async function workflowRun(mode: Wait): Promise<Measured> {
  const { producer, workerQueue } = queuePair();
  await producer.connect();
  await workerQueue.connect();
  const created = Array.from({ length: WORKFLOWS }, (_, i) => threeSteps(i));
  counting = true;
  const started = performance.now();
  for (let i = 0; i < created.length; i += 100)
    await Promise.all(created.slice(i, i + 100).map((wf) => producer.addWorkflow(wf)));
  const addS = (performance.now() - started) / 1000;
  counting = false;
  const add = takeTallies();
  const result = await drain(workerQueue, mode, () =>
    producer.waitForWorkflow(created, { timeout: WAIT_TIMEOUT_S }),
  );
  const done: Workflow[] = result.waited;
  done.forEach((wf, i) => {
    if (wf.status !== "completed" || wf.result !== i + 3)
      throw new Error(`workflow ${wf.id}: ${wf.status}, result ${String(wf.result)}`);
  });
  // Uncounted, after the drain: the step records' start and finish times.
  const stepIds = done.flatMap((wf) => wf.steps.map((s) => s.taskId));
  const steps = new Map<string, Task>();
  for (let i = 0; i < stepIds.length; i += 1000) {
    for (const t of await producer.getTask(stepIds.slice(i, i + 1000))) if (t) steps.set(t.id, t);
  }
  const durationsMs = done.map((wf) => wf.finishedAt!.getTime() - result.drainStartedAt);
  const gapsMs: number[] = [];
  for (const wf of done) {
    for (let s = 1; s < wf.steps.length; s++) {
      const ended = steps.get(wf.steps[s - 1]!.taskId)?.finishedAt;
      const next = steps.get(wf.steps[s]!.taskId)?.startedAt;
      if (ended && next) gapsMs.push(next.getTime() - ended.getTime());
    }
  }
  await producer.close();
  await workerQueue.close();
  return { addS, add, ...result, durationsMs, gapsMs };
}

// ---------------------------------------------------------------------------

type Kind = "plain" | "workflows";
type Results = Record<Kind, Measured[]>;
const results = new Map<Wait, Results>(WAITS.map((wait) => [wait, { plain: [], workflows: [] }]));
const WAIT_TEXT: Record<Wait, string> = {
  list: "end seen by waitFor / waitForWorkflow on the whole list (the producer, in this process)",
  events: "end seen by the worker's task:completed events (no waiter)",
};

admin = new Redis(REDIS_URL);
console.log(
  `Redis ${REDIS_URL}; ${fmt(WORKFLOWS)} workflows of 3 steps vs ${fmt(STEPS)} no-op tasks; ` +
    `one worker, concurrency ${CONCURRENCY}; ${RUNS} runs, alternating; medians`,
);
for (let run = 0; run < RUNS; run++) {
  for (const wait of WAITS) {
    const kinds: Kind[] = run % 2 === 0 ? ["plain", "workflows"] : ["workflows", "plain"];
    for (const kind of kinds) {
      results
        .get(wait)!
        [kind].push(kind === "plain" ? await plainRun(wait) : await workflowRun(wait));
      await cleanup();
    }
    const plain = results.get(wait)!.plain.at(-1)!;
    const workflows = results.get(wait)!.workflows.at(-1)!;
    console.log(
      `  run ${run + 1}, ${wait}: plain drain ${fmt(STEPS / plain.drainS)} tasks/s; ` +
        `workflows drain ${fmt(STEPS / workflows.drainS)} steps/s ` +
        `(${fmt(WORKFLOWS / workflows.drainS)} workflows/s); ratio ${fmt(plain.drainS / workflows.drainS, 2)}×`,
    );
  }
}

const pad = (s: string, n = 10) => s.padStart(n);
const rate = (n: number) => `${fmt(n)}/s`;

for (const wait of WAITS) {
  const r = results.get(wait)!;
  const med = (kind: Kind, f: (m: Measured) => number) => median(r[kind].map(f));
  const ratios = (f: (m: Measured) => number) => r.plain.map((p, i) => f(p) / f(r.workflows[i]!));
  const row = (label: string, plain: string, workflows: string, note = "") =>
    console.log(`  ${label.padEnd(26)} ${pad(plain, 12)} ${pad(workflows, 12)}  ${note}`);
  console.log(`\nThroughput, ${WAIT_TEXT[wait]}`);
  row("", "plain tasks", "workflows");
  row(
    "add",
    rate(med("plain", (m) => STEPS / m.addS)),
    rate(med("workflows", (m) => WORKFLOWS / m.addS)),
    "tasks / workflows added per second",
  );
  row(
    "drain",
    rate(med("plain", (m) => STEPS / m.drainS)),
    rate(med("workflows", (m) => STEPS / m.drainS)),
    `tasks / steps per second (${fmt(med("workflows", (m) => WORKFLOWS / m.drainS))} workflows/s)`,
  );
  row(
    "end to end (add + drain)",
    rate(med("plain", (m) => STEPS / (m.addS + m.drainS))),
    rate(med("workflows", (m) => WORKFLOWS / (m.addS + m.drainS))),
    "tasks / workflows per second",
  );
  row(
    "CPU of this process",
    `${fmt(med("plain", (m) => m.cpuUs / STEPS))} µs`,
    `${fmt(med("workflows", (m) => m.cpuUs / STEPS))} µs`,
    "per task / step during the drain (user + system)",
  );
  const drainRatios = ratios((m) => m.drainS);
  const endRatios = ratios((m) => m.addS + m.drainS);
  console.log(
    `  ratio workflow steps/s ÷ plain tasks/s: drain ${fmt(median(drainRatios), 2)}× ` +
      `(runs: ${drainRatios.map((x) => fmt(x, 2)).join(", ")}), end to end ${fmt(median(endRatios), 2)}×`,
  );
}

// The counts barely vary between runs: the median run's (by drain time) are shown.
function perStep(tally: Tally | undefined): string {
  return `${fmt(commandCount(tally) / STEPS, 2)} commands, ${fmt((tally?.roundTrips ?? 0) / STEPS, 2)} round trips, ${fmt(scriptCount(tally) / STEPS, 2)} script calls`;
}
function breakdown(tally: Tally | undefined): string {
  if (!tally) return "      (none)";
  return [...tally.commands]
    .sort((a, b) => b[1] - a[1])
    .map(
      ([name, count]) =>
        `      ${name.padEnd(24)} ${pad(fmt(count), 7)}  ${fmt(count / STEPS, 3)}/step`,
    )
    .join("\n");
}
const medianRun = (wait: Wait, kind: Kind) =>
  [...results.get(wait)![kind]].sort((a, b) => a.drainS - b.drainS)[RUNS >> 1]!;

function serverLines(m: Measured, worker: Tally | undefined, waiter: Tally | undefined): void {
  // The server counts the commands scripts run too, and a script's time includes theirs.
  const server = m.server;
  const sent = new Map<string, number>();
  for (const tally of [worker, waiter]) {
    for (const [name, count] of tally?.commands ?? []) {
      const key = name.startsWith("script ") ? "evalsha" : name;
      sent.set(key, (sent.get(key) ?? 0) + count);
    }
  }
  sent.delete("info");
  const serverScripts = (server.calls.get("evalsha") ?? 0) + (server.calls.get("eval") ?? 0);
  const scriptUsec = (server.usec.get("evalsha") ?? 0) + (server.usec.get("eval") ?? 0);
  let directUsec = 0;
  for (const [name, count] of sent) {
    const calls = server.calls.get(name);
    if (name !== "evalsha" && calls) directUsec += (count * server.usec.get(name)!) / calls;
  }
  const serverCalls = sum(server.calls.values());
  const topLevel = sum(sent.values()) - (sent.get("evalsha") ?? 0) + serverScripts;
  const clientScripts = scriptCount(worker) + scriptCount(waiter);
  console.log(
    `    server, INFO commandstats (all clients; INFO left out): ${fmt(serverCalls / STEPS, 1)} commands/step, ` +
      `${fmt(topLevel / STEPS, 1)} sent and ${fmt((serverCalls - topLevel) / STEPS, 1)} run inside scripts; ` +
      `Redis time/step: scripts ${fmt(scriptUsec / STEPS, 1)} µs (with the commands they run), ` +
      `commands sent directly about ${fmt(directUsec / STEPS, 1)} µs`,
  );
  const inside = [...server.calls]
    .map(([name, calls]) => {
      const own = name === "evalsha" || name === "eval" ? calls : (sent.get(name) ?? 0);
      return [name, calls - own] as const;
    })
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([name, calls]) => `${name} ${fmt(calls / STEPS, 2)}`)
    .join(", ");
  console.log(`    run inside scripts, per step: ${inside}`);
  console.log(
    `    script calls: ${fmt(serverScripts)} on the server, ${fmt(clientScripts)} counted here` +
      (serverScripts === clientScripts
        ? " (no other client ran scripts meanwhile)"
        : " (other clients were busy: the server figures include their traffic)"),
  );
}

console.log(
  `\nCommands sent by the library's ioredis clients, per step (${fmt(STEPS)} steps, or plain tasks): ` +
    "a pipeline counts as one round trip; script calls are EVALSHA (EVAL the first time on a connection)",
);
for (const wait of WAITS) {
  console.log(`  ${WAIT_TEXT[wait]}:`);
  for (const kind of ["plain", "workflows"] as const) {
    const m = medianRun(wait, kind);
    const worker = m.drain.get(WORKER);
    const waiter = m.drain.get(WAITER);
    console.log(`  ${kind}`);
    console.log(`    worker, during the drain:  ${perStep(worker)}`);
    if (wait === "list") {
      console.log(
        `    waiter (${kind === "plain" ? "waitFor" : "waitForWorkflow"}), meanwhile: ${perStep(waiter)}`,
      );
      console.log(`    adding, before the drain:  ${perStep(m.add.get(WAITER))}`);
    }
    if (wait === WAITS[0]) {
      console.log("    the worker's commands:");
      console.log(breakdown(worker));
      if (wait === "list") {
        console.log("    the waiter's commands:");
        console.log(breakdown(waiter));
      }
    }
    serverLines(m, worker, waiter);
  }
}

const line = (v: readonly number[]) =>
  `${fmt(percentile(v, 50), 1)} / ${fmt(percentile(v, 95), 1)} / ${fmt(Math.max(...v), 1)}`;
for (const wait of WAITS) {
  console.log(`\nTimes in ms, p50 / p95 / max (the median run), ${WAIT_TEXT[wait]}`);
  for (const kind of ["plain", "workflows"] as const) {
    for (const [what, times] of medianRun(wait, kind).attempts) {
      console.log(
        `  ${what.padEnd(7)} attempts (${fmt(times.runMs.length)}): run ${line(times.runMs)}; ` +
          `start → outcome stored ${line(times.landMs)}`,
      );
    }
  }
  const m = medianRun(wait, "workflows");
  console.log(`  the drain's start → each workflow's finish: ${line(m.durationsMs!)}`);
  console.log(
    `  a step's finish → the next step's start (its resume queued, run and settled, then the next step queued): ${line(m.gapsMs!)}`,
  );
}
admin.disconnect();
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(`\nprocess RSS after the run: ${fmt(rss)} MB`);
process.exit(0);
