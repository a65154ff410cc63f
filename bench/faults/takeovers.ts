/**
 * Whose task each takeover was. A worker says "reclaimed <id> <ms>" when it
 * takes over a claim whose lease ran out, <ms> being when that claim was
 * made; the executions say which process started the task right after that
 * claim. A takeover of a run whose process was alive and still running it
 * took work from a live worker — the defect leases must rule out.
 */
import type { Execution, ExecutionReport } from "./executions.js";
import { takeovers, type WorkerProcess } from "./workers.js";

/** A run starts this soon after its claim; the next claim of the task comes a whole lease later. */
const CLAIM_TO_START_MS = 1000;
/** Claim times and recorded starts come from different processes' clocks on one host. */
const CLOCK_SLACK_MS = 50;

export interface Takeover {
  readonly id: string;
  readonly at: number;
  /** Pid of the process that ran the taken-over attempt; undefined when none had started it. */
  readonly from: number | undefined;
  /** That process was alive, and the task's function still running there, when it was taken over. */
  readonly fromLive: boolean;
  /**
   * That process was alive but its run had returned: the takeover hit the
   * window between a return and its stored outcome. Reported, not judged.
   */
  readonly afterReturn: boolean;
}

/** The run of `runs` that the claim made at `claimedAt` started, if any. */
function runOfClaim(runs: readonly Execution[], claimedAt: number | null): Execution | undefined {
  if (claimedAt === null) return undefined;
  return runs.find(
    (run) => run.start >= claimedAt - CLOCK_SLACK_MS && run.start < claimedAt + CLAIM_TO_START_MS,
  );
}

export function attributeTakeovers(
  workers: readonly WorkerProcess[],
  executions: ExecutionReport,
): Takeover[] {
  const byPid = new Map(workers.map((w) => [w.pid, w]));
  return takeovers(workers).map(({ id, at, claimedAt }) => {
    const run = runOfClaim(executions.byTask.get(id) ?? [], claimedAt);
    const holder = run ? byPid.get(run.pid) : undefined;
    const diedAt = holder?.killedAt ?? holder?.exit?.at;
    const alive = holder !== undefined && (diedAt === undefined || diedAt > at);
    const running = run !== undefined && (run.end === undefined || run.end > at);
    return { id, at, from: run?.pid, fromLive: alive && running, afterReturn: alive && !running };
  });
}

/** One line: how many takeovers, and of what. */
export function takeoverSummary(list: readonly Takeover[]): string {
  if (list.length === 0) return "0";
  const running = list.filter((t) => t.fromLive).length;
  const returned = list.filter((t) => t.afterReturn).length;
  const unstarted = list.filter((t) => t.from === undefined).length;
  const dead = list.length - running - returned - unstarted;
  return `${list.length}: ${running} running on a live worker, ${returned} returned on a live worker but not yet stored, ${unstarted} claimed but not started, ${dead} held by a dead worker`;
}

/** In a scenario where no worker dies, every takeover took a live worker's task: one finding for all of them. */
export function liveTakeoverFinding(list: readonly Takeover[]): string[] {
  if (list.length === 0) return [];
  return [
    `${list.length} tasks taken over although no worker died (${takeoverSummary(list)}; e.g. ${list[0]!.id})`,
  ];
}
