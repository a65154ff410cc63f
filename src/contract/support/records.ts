/**
 * Record helpers for contract cases that call a backend directly: build
 * records in a given state, and end a claim with one settle call.
 */
import type { Backend, ClaimedTask, SettleResult } from "../../backends/backend.js";
import type { TaskData } from "../../index.js";

/** ISO text of an epoch-ms instant (now by default). */
export const iso = (ms = Date.now()): string => new Date(ms).toISOString();

/** The ids of some records, in order. */
export const ids = (records: readonly { id: string }[]): string[] => records.map((r) => r.id);

/** The ids of some claims, in order. */
export const claimIds = (claims: readonly ClaimedTask[]): string[] =>
  claims.map((c) => c.record.id);

/** `record` finished with `status` (a completed one carries its first argument as result). */
export function finishedRecord(
  record: TaskData,
  status: "completed" | "failed" | "crashed" = "completed",
): TaskData {
  return {
    ...record,
    status,
    result: status === "completed" ? (record.args[0] ?? null) : null,
    finishedAt: iso(),
  };
}

/** `record` waiting for a retry at `at`. */
export const retryingRecord = (record: TaskData, at: number): TaskData => ({
  ...record,
  status: "retrying",
  retryCount: record.retryCount + 1,
  nextRetryAt: iso(at),
});

/** `record` scheduled for `at` (as `add` takes scheduled work, or a settle puts a start off). */
export const scheduledRecord = (record: TaskData, at: number): TaskData => ({
  ...record,
  status: "scheduled",
  scheduledAt: iso(at),
});

/** `record` back to pending (an attempt interrupted at shutdown). */
export const requeued = (record: TaskData): TaskData => ({
  ...record,
  status: "pending",
  startedAt: null,
});

/** Ends `claim` with `record` in one settle call; returns the backend's verdict. */
export async function settleClaim(
  backend: Backend,
  queue: string,
  claim: ClaimedTask,
  record: TaskData = finishedRecord(claim.record),
  extra: { children?: readonly TaskData[]; expiresAt?: number | null; now?: number } = {},
): Promise<SettleResult> {
  const [result] = await backend.settle(
    queue,
    [
      {
        fence: claim.fence,
        record,
        children: extra.children ?? [],
        expiresAt: extra.expiresAt ?? null,
      },
    ],
    extra.now ?? Date.now(),
  );
  return result!;
}
