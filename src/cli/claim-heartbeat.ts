/**
 * @module cli/claim-heartbeat
 * How `task list` and `task info` show a running task's claim: how long ago
 * its worker last renewed it, and whether that is past the lease the worker
 * claimed it under — a worker that is gone (killed, its host lost) leaves a
 * task `processing` until another worker takes the claim over, and an
 * operator needs to tell that from a task that is merely long.
 */
import type { Backend, ClaimLease } from "../backends/backend.js";
import type { ClaimHolder, LiveWorker } from "../queue/live-worker.js";
import type { TaskData } from "../task/task-record.js";
import { formatWait } from "./output.js";

/**
 * The claims of the running tasks among `rows`, read in one call; empty when
 * none runs or the backend does not report claims (`claimLeases` is optional),
 * `undefined` in the latter case so callers can leave the column out.
 */
export async function runningClaims(
  backend: Backend,
  queue: string,
  rows: readonly TaskData[],
): Promise<Map<string, ClaimLease> | undefined> {
  const running = rows.filter((row) => row.status === "processing").map((row) => row.id);
  if (running.length === 0 || backend.claimLeases === undefined) return undefined;
  return backend.claimLeases(queue, running);
}

/** Whether a claim has gone unrenewed past the lease its holder took it under. */
export const pastLease = (lease: ClaimLease): boolean =>
  lease.leaseMs !== null && lease.renewedAgoMs > lease.leaseMs;

/**
 * A running task's heartbeat on one table cell: `4s ago`, or
 * `1m12s ago, past 20s lease` once its worker has stopped renewing it for
 * longer than its lease; `-` for a task that holds no claim.
 */
export function heartbeatCell(lease: ClaimLease | undefined): string {
  if (lease === undefined) return "-";
  const ago = `${formatWait(lease.renewedAgoMs)} ago`;
  return pastLease(lease) ? `${ago}, past ${formatWait(lease.leaseMs!)} lease` : ago;
}

/** A running task's heartbeat on `task info`'s row, saying what a claim past its lease means. */
export function heartbeatDetail(lease: ClaimLease): string {
  const ago = `${formatWait(lease.renewedAgoMs)} ago`;
  if (lease.leaseMs === null) return ago;
  if (!pastLease(lease)) return `${ago} (lease ${formatWait(lease.leaseMs)})`;
  return `${ago}: past its ${formatWait(lease.leaseMs)} lease — its worker is likely gone; a worker of this queue takes it over once one runs`;
}

/** A record as JSON output gives it: a running one with its `claim` (and the worker holding it, when known), as `GET /{queue}/tasks/{id}` does. */
export function withClaim(
  record: TaskData,
  lease: ClaimLease | undefined,
  holder?: LiveWorker,
): TaskData | (TaskData & { claim: ClaimLease & { worker?: ClaimHolder } }) {
  if (lease === undefined || record.status !== "processing") return record;
  if (holder === undefined) return { ...record, claim: lease };
  const { id, host, pid } = holder;
  return { ...record, claim: { ...lease, worker: { id, host, pid } } };
}

/** The worker holding a running task, on `task info`'s row: where to look for it. */
export function holderDetail(holder: LiveWorker): string {
  return `${holder.id.slice(0, 8)} on ${holder.host} (pid ${holder.pid}; sheppy worker list shows it)`;
}
