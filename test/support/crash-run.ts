/**
 * The crash tests' run, on any backend: three worker processes (the
 * `crash-worker` fixture) share a queue of recorded tasks; one is SIGKILLed
 * once it has run 30 of them; then every task must complete exactly once,
 * except those the victim held, which ran once more each (reclaimed and
 * retried). Executions are recorded outside the backend under test: on
 * Redis, or in a file (`file:` recorder URL) for the embedded backends.
 */
import type { ChildProcess } from "node:child_process";
import type { Queue, Task } from "sheppy";
import { expect } from "vitest";
import { executionsKey, recordReader } from "../fixtures/crash-tasks.js";
import { exited, spawnTs, waitForOutput } from "./processes.js";

export interface CrashRun {
  /** The queue the tasks were added to (its backend is the one under test). */
  readonly queue: Queue;
  readonly tasks: readonly Task[];
  /** Where executions are recorded (a Redis URL, or a `file:` URL of a directory), and under which key prefix. */
  readonly recorderUrl: string;
  readonly prefix: string;
  /** Environment of the worker processes (which backend, which queue). */
  readonly env: Record<string, string>;
  /** Children are added here as they start, so the caller can kill them in `afterAll`. */
  readonly children: ChildProcess[];
}

export async function killOneWorkerMidRun(run: CrashRun): Promise<void> {
  const { queue, tasks, children, prefix } = run;
  // The queue is held until all three workers are up: on a loaded machine one may start seconds
  // after the others, which would otherwise drain most of the queue before the victim got going.
  await queue.pause();
  for (let i = 0; i < 3; i++) children.push(spawnTs("test/fixtures/crash-worker.ts", run.env));
  await Promise.all(children.map((child) => waitForOutput(child, "ready")));
  await queue.resume();

  const recorder = recordReader(run.recorderUrl);
  // Kill one worker once it is well into the run, while it holds tasks.
  const victim = children[0]!;
  for (;;) {
    const runs = await recorder.read(executionsKey(prefix));
    if (runs.filter((r) => r.endsWith(`:${victim.pid}`)).length >= 30) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  victim.kill("SIGKILL");
  await exited(victim);
  // The kill must land mid-run, while the victim still had work to hold.
  expect(await queue.size(), "tasks left when the victim was killed").toBeGreaterThan(
    tasks.length / 10,
  );

  const finished = await queue.waitFor([...tasks], { timeout: 90 });
  const notCompleted = finished.filter((t) => t.status !== "completed");
  expect(notCompleted.map((t) => `${t.id} ${t.status}: ${t.error?.message}`)).toEqual([]);
  expect(finished.map((t) => t.result)).toEqual(tasks.map((_, i) => i));

  const runs = await recorder.read(executionsKey(prefix));
  const byTask = new Map<string, string[]>();
  for (const entry of runs) {
    const [id, pid] = entry.split(":") as [string, string];
    byTask.set(id, [...(byTask.get(id) ?? []), pid]);
  }
  expect(byTask.size).toBe(tasks.length);
  const twice = [...byTask.entries()].filter(([, pids]) => pids.length > 1);
  const context = `victim ${victim.pid}, others ${children
    .slice(1)
    .map((c) => c.pid)
    .join(", ")}; ran twice: ${JSON.stringify(twice)}`;
  for (const [, who] of twice) {
    expect(who, context).toHaveLength(2);
    expect(who[0], context).toBe(String(victim.pid));
  }
  // Only what the victim held when it died ran twice: at most its 10 running tasks plus 30
  // outcomes it had not stored yet (a slot is freed when a function returns, before its store,
  // and a worker holds at most four times its concurrency).
  expect(twice.length, context).toBeLessThanOrEqual(40);
  // Reclaimed tasks were retried once (retryOnCrash): every task that ran twice is among them.
  const reclaimed = new Set(finished.filter((t) => t.retryCount === 1).map((t) => t.id));
  expect(reclaimed.size).toBeGreaterThan(0);
  for (const [id] of twice) expect(reclaimed.has(id), context).toBe(true);

  for (const child of children.slice(1)) child.kill("SIGTERM");
  expect(await Promise.all(children.slice(1).map(exited))).toEqual([0, 0]);
  recorder.close();
}
