/**
 * A worker process SIGKILLed in the middle of 200 concurrent 3-step
 * workflows, on a private Redis: every workflow completes with its result,
 * each asked for its three steps exactly once (600 step tasks, 600 resumes),
 * and no step task ran twice except one whose attempt the killed worker held:
 * its first run was the victim's, its second another worker's after the
 * takeover.
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { Queue } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { stepNames, stepRunsKey, threeSteps } from "../../fixtures/workflow-crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { PrivateRedis } from "../../support/private-redis.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const WORKFLOWS = 200;
const CONCURRENCY = 10;
/** Each step run pauses this long, so a worker's slots hold running steps most of the time. */
const STEP_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each step task's runs, in start order: who ran it and whether the run got to its end. */
type Runs = Map<string, { pid: string; ended: boolean }[]>;

function runsOf(entries: readonly string[]): Runs {
  const runs: Runs = new Map();
  for (const entry of entries) {
    const [event, id, pid] = entry.split(":") as [string, string, string];
    const list = runs.get(id) ?? [];
    if (event === "start") list.push({ pid, ended: false });
    else {
      const run = list.find((r) => r.pid === pid && !r.ended);
      if (run) run.ended = true;
    }
    runs.set(id, list);
  }
  return runs;
}

/** Step runs started by `pid` that have not ended. */
function openRuns(runs: Runs, pid: number): number {
  let open = 0;
  for (const list of runs.values())
    open += list.filter((r) => r.pid === String(pid) && !r.ended).length;
  return open;
}

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: a worker killed in the middle of workflows", () => {
  let server: PrivateRedis | undefined;
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(children.map(exited));
    await server?.destroy();
  });

  it("200 3-step workflows, one worker SIGKILLed: all complete; only its steps ran twice", async () => {
    server = await PrivateRedis.start();
    const url = server.url;
    const queue = new Queue(new RedisBackend({ url, prefix }), { name: "workflows" });
    const added = [];
    for (let i = 0; i < WORKFLOWS; i++)
      added.push(await queue.addWorkflow(threeSteps(url, prefix, i, STEP_MS)));
    expect(await queue.size()).toBe(WORKFLOWS);

    const env = {
      TEST_REDIS_URL: url,
      TEST_PREFIX: prefix,
      TEST_QUEUE: "workflows",
      TEST_CONCURRENCY: String(CONCURRENCY),
      TEST_LEASE: "1",
      TEST_HEARTBEAT: "0.2",
      TEST_RECLAIM: "0.2",
      TEST_TASK_MODULES: "test/fixtures/workflow-crash-tasks.ts",
    };
    // What each worker printed: "reclaimed <id>" for every claim it took over.
    const printed = new Map<ChildProcess, string>();
    const start = async () => {
      const child = spawnTs("test/fixtures/crash-worker.ts", env);
      children.push(child);
      printed.set(child, "");
      child.stdout?.on("data", (chunk: string) => {
        printed.set(child, printed.get(child) + chunk);
      });
      await waitForOutput(child, "ready");
      return child;
    };
    const [victim, survivor] = await Promise.all([start(), start()]);

    // Kill the victim once the run is well under way and it holds running steps. It is
    // frozen first and the record read again: a loaded machine can let every step seen
    // running end before a kill sent straight after the look lands.
    const recorder = new Redis(url);
    const key = stepRunsKey(prefix);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const entries = await recorder.lrange(key, 0, -1);
      const starts = entries.filter((e) => e.startsWith("start:")).length;
      if (starts >= 100 && openRuns(runsOf(entries), victim!.pid!) >= 3) {
        victim!.kill("SIGSTOP");
        // What it had sent before it stopped is in by now.
        await sleep(100);
        if (openRuns(runsOf(await recorder.lrange(key, 0, -1)), victim!.pid!) > 0) break;
        victim!.kill("SIGCONT");
      }
      if (Date.now() > deadline) throw new Error(`the victim never held 3 running steps`);
      await sleep(5);
    }
    victim!.kill("SIGKILL");
    await exited(victim!);
    const replacement = await start();

    // The kill landed mid-run: the victim died with steps running, and workflows still ran.
    const atKill = runsOf(await recorder.lrange(key, 0, -1));
    const cutShort = [...atKill.entries()]
      .filter(([, runs]) => runs.some((r) => r.pid === String(victim!.pid) && !r.ended))
      .map(([id]) => id);
    expect(cutShort.length).toBeGreaterThan(0);
    expect((await queue.getPendingWorkflows()).length).toBeGreaterThan(WORKFLOWS / 4);

    const done = await queue.waitForWorkflow(added, { timeout: 60 });
    expect(done.map((w) => w.status)).toEqual(added.map(() => "completed"));
    expect(done.map((w) => w.result)).toEqual(added.map((_, i) => i * 1000 + 123));
    // Each workflow asked for its three steps once, in order; 600 step tasks in all.
    for (const wf of done) expect(wf.steps.map((s) => s.name)).toEqual(stepNames);
    const stepIds = new Set(done.flatMap((w) => w.steps.map((s) => s.taskId)));
    expect(stepIds.size).toBe(WORKFLOWS * 3);

    // The queue holds exactly those step tasks, each completed, and one resume per step.
    const stored = await queue.getAllTasks();
    const steps = stored.filter((t) => stepNames.includes(t.name));
    expect(new Set(steps.map((t) => t.id))).toEqual(stepIds);
    expect(steps).toHaveLength(WORKFLOWS * 3);
    expect(steps.every((t) => t.status === "completed")).toBe(true);
    const resumes = stored.filter((t) => t.name === `workflow:${threeSteps.workflowName}`);
    expect(resumes).toHaveLength(WORKFLOWS * 3);
    expect(resumes.every((t) => t.status === "completed")).toBe(true);
    expect(stored).toHaveLength(WORKFLOWS * 6);

    // Every step ran; a step ran twice only when the victim's run came first and another
    // worker's second, after taking the claim over; every step the kill cut short ran twice.
    const runs = runsOf(await recorder.lrange(key, 0, -1));
    expect(new Set(runs.keys())).toEqual(stepIds);
    const reclaimed = new Set(
      [survivor!, replacement]
        .flatMap((child) => printed.get(child)!.split("\n"))
        .filter((line) => line.startsWith("reclaimed "))
        .map((line) => line.split(" ")[1]),
    );
    const retried = new Set(steps.filter((t) => t.retryCount > 0).map((t) => t.id));
    const twice: string[] = [];
    for (const [id, list] of runs) {
      if (list.length === 1) continue;
      twice.push(id);
      expect(list.map((r) => r.pid === String(victim!.pid))).toEqual([true, false]);
      expect(list[1]!.ended).toBe(true);
      expect(reclaimed.has(id)).toBe(true);
      expect(retried.has(id)).toBe(true);
    }
    for (const id of cutShort) expect(runs.get(id)).toHaveLength(2);
    expect(twice.length).toBeGreaterThanOrEqual(cutShort.length);
    // At most the victim's running steps plus the outcomes it had not stored yet.
    expect(twice.length).toBeLessThanOrEqual(2 * CONCURRENCY);
    // A retried step is one taken over from the victim, nothing else.
    for (const id of retried) expect(reclaimed.has(id)).toBe(true);

    for (const child of [survivor!, replacement]) child.kill("SIGTERM");
    expect(await Promise.all([exited(survivor!), exited(replacement)])).toEqual([0, 0]);
    recorder.disconnect();
    await queue.close();
  }, 60_000);
});
