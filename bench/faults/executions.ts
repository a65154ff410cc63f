/**
 * Executions as the tasks themselves recorded them (test/fixtures/crash-tasks,
 * with TEST_RECORD_TIMES=1): which process ran which task, from when to when.
 * A task's stored status says how it ended; only these records say how often
 * its function actually ran, and whether two runs were ever under way at once
 * — the one thing leases and fences exist to prevent on a live worker.
 */
import type { Redis } from "ioredis";
import { executionEndsKey, executionsKey } from "../../test/fixtures/crash-tasks.js";

export interface Execution {
  readonly id: string;
  readonly pid: number;
  readonly start: number;
  /** When the function returned; absent when it never did (its process was killed). */
  end: number | undefined;
}

export interface ExecutionReport {
  /** Executions recorded, all tasks together. */
  readonly total: number;
  readonly byTask: ReadonlyMap<string, readonly Execution[]>;
  /** Tasks whose function ran more than once. */
  readonly runTwice: readonly string[];
  /** Tasks with two runs under way at the same time (a run's end is its return, or its process's death). */
  readonly overlapped: readonly string[];
  /** Runs that never ended on a process that was not killed (their overlap cannot be judged). */
  readonly openEnded: number;
}

/** `<id>:<pid>:<ms>` → its parts (ids are UUIDs, but read from the right all the same). */
function parse(entry: string): { id: string; pid: number; at: number } {
  const parts = entry.split(":");
  const at = Number(parts.pop());
  const pid = Number(parts.pop());
  return { id: parts.join(":"), pid, at };
}

/**
 * Reads what the tasks recorded under `prefix` on `recorder`. `deaths` maps
 * the pid of every killed worker to when it was killed: a run on it that
 * never returned ended then.
 */
export async function readExecutions(
  recorder: Redis,
  prefix: string,
  deaths: ReadonlyMap<number, number>,
): Promise<ExecutionReport> {
  const [starts, ends] = await Promise.all([
    recorder.lrange(executionsKey(prefix), 0, -1),
    recorder.lrange(executionEndsKey(prefix), 0, -1),
  ]);
  const byTask = new Map<string, Execution[]>();
  const open = new Map<string, Execution[]>();
  for (const entry of starts) {
    const { id, pid, at } = parse(entry);
    const execution: Execution = { id, pid, start: at, end: undefined };
    byTask.set(id, [...(byTask.get(id) ?? []), execution]);
    const key = `${id}:${pid}`;
    open.set(key, [...(open.get(key) ?? []), execution]);
  }
  // A process runs one task's executions one after the other: ends pair with starts in order.
  for (const entry of ends) {
    const { id, pid, at } = parse(entry);
    const execution = open.get(`${id}:${pid}`)?.shift();
    if (execution) execution.end = at;
  }
  const runTwice: string[] = [];
  const overlapped: string[] = [];
  let openEnded = 0;
  for (const [id, runs] of byTask) {
    runs.sort((a, b) => a.start - b.start);
    for (const run of runs) if (run.end === undefined && !deaths.has(run.pid)) openEnded++;
    if (runs.length < 2) continue;
    runTwice.push(id);
    for (let i = 1; i < runs.length; i++) {
      const before = runs[i - 1]!;
      const ended = before.end ?? deaths.get(before.pid);
      if (ended !== undefined && runs[i]!.start < ended) {
        overlapped.push(id);
        break;
      }
    }
  }
  return { total: starts.length, byTask, runTwice, overlapped, openEnded };
}
