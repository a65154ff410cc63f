/**
 * The event-log test shared by the SQL backends: worker processes run a
 * queue's tasks while listeners in this process read its event log; every
 * task's events must arrive exactly once each, in the order they happened.
 */
import type { ChildProcess } from "node:child_process";
import type { Backend, Queue } from "sheppy";
import { readEventPage } from "../../src/task/lifecycle-event.js";
import { loggedWork } from "../fixtures/event-log-tasks.js";
import { exited, startWorkerProcesses } from "./processes.js";

export interface LoggedEntry {
  readonly id: string;
  readonly body: string;
}

/** Reads `queue`'s log after `after` until `done` says stop or `ms` pass, `limit` per read. */
export async function readUntil(
  backend: Backend,
  queue: string,
  after: string | null,
  limit: number,
  done: (read: readonly LoggedEntry[]) => boolean,
  ms: number,
): Promise<LoggedEntry[]> {
  const read: LoggedEntry[] = [];
  const deadline = Date.now() + ms;
  let position = after;
  while (!done(read) && Date.now() < deadline) {
    const page = await backend.readEvents(queue, { after: position, limit, waitMs: 500 });
    for (const entry of page) read.push(entry);
    if (page.length > 0) position = page[page.length - 1]!.id;
  }
  return read;
}

/** Per task id, its event types in log order. */
export function typesByTask(entries: readonly LoggedEntry[]): Map<string, string[]> {
  const byTask = new Map<string, string[]>();
  for (const event of readEventPage("", entries)) {
    const types = byTask.get(event.taskId) ?? [];
    types.push(event.type);
    byTask.set(event.taskId, types);
  }
  return byTask;
}

export interface ProcessRun {
  readonly tasks: readonly string[];
  readonly output: () => string;
  /** Stops the workers (SIGTERM) and returns their exit codes. */
  readonly stop: () => Promise<(number | NodeJS.Signals | null)[]>;
}

/**
 * Adds `count` tasks to a paused `queue`, starts `processes` worker
 * processes (each with `env`), and resumes the queue once all are up.
 */
export async function runInProcesses(
  queue: Queue,
  count: number,
  processes: number,
  env: Record<string, string>,
  children: ChildProcess[],
): Promise<ProcessRun> {
  await queue.pause();
  const tasks = Array.from({ length: count }, (_, i) => loggedWork(i));
  await queue.add(tasks);
  const { children: mine, output } = await startWorkerProcesses(
    "test/fixtures/event-log-worker.ts",
    { ...env, TEST_QUEUE: queue.name },
    processes,
    children,
  );
  await queue.resume();
  return {
    tasks: tasks.map((t) => t.id),
    output,
    stop: async () => {
      for (const child of mine) child.kill("SIGTERM");
      return Promise.all(mine.map((child) => exited(child)));
    },
  };
}
