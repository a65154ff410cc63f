/**
 * The lease keeper renews this worker's claims on time whatever happens to
 * the claims it takes over: settling a takeover may be retried for a long
 * while (the backend is struggling), and this worker's own claims must not
 * expire meanwhile.
 */
import { describe, expect, test } from "vitest";
import type { ClaimedTask, ClaimRef } from "../../src/backends/backend.js";
import { systemClock } from "../../src/clock.js";
import type { Queue } from "../../src/queue/queue.js";
import { runLeaseKeeper } from "../../src/worker/lease-keeper.js";

/**
 * A keeper of one queue, heartbeating every 5 ms, whose renewals `renew`
 * answers; `stop()` ends it and gives its failures (as `write` writes
 * them) and recoveries (`recovered <during>`), in order.
 */
function reportingKeeper(
  renew: () => Promise<string[]>,
  claimsIn: () => ClaimRef[],
  write: (error: Error, during: string, first: boolean) => string,
) {
  const queue = {
    name: "q",
    backend: { renew, reclaimExpired: async () => [] },
  } as unknown as Queue;
  const abort = new AbortController();
  const reports: string[] = [];
  const keeper = runLeaseKeeper({
    queues: [queue],
    reclaimQueues: [queue],
    clock: systemClock,
    heartbeatMs: 5,
    reclaimMs: 60_000,
    leaseMs: 1000,
    confirmMs: 0,
    signal: abort.signal,
    claimsIn,
    onLost: () => undefined,
    onExpired: async () => undefined,
    onError: (error, during, first) => reports.push(write(error as Error, during, first)),
    onRecovered: (during) => reports.push(`recovered ${during}`),
  });
  return {
    async stop(): Promise<string[]> {
      abort.abort();
      await keeper;
      return reports;
    },
  };
}

describe("lease keeper", () => {
  test("renews on time while the settling of a takeover hangs", async () => {
    let renewals = 0;
    let reclaims = 0;
    const taken = { record: { id: "other" }, fence: 2 } as unknown as ClaimedTask;
    const queue = {
      name: "q",
      backend: {
        renew: async () => {
          renewals++;
          return [];
        },
        reclaimExpired: async () => {
          reclaims++;
          return reclaims === 1 ? [taken] : [];
        },
      },
    } as unknown as Queue;
    const stop = new AbortController();
    const settling: ClaimedTask[][] = [];
    const keeper = runLeaseKeeper({
      queues: [queue],
      reclaimQueues: [queue],
      clock: systemClock,
      heartbeatMs: 10,
      reclaimMs: 10,
      leaseMs: 1000,
      confirmMs: 0,
      signal: stop.signal,
      claimsIn: () => [{ id: "mine", fence: 1 }],
      onLost: () => undefined,
      // The takeover's settle never finishes.
      onExpired: (_queue, claims) => {
        settling.push(claims);
        return new Promise<void>(() => undefined);
      },
      onError: (error) => {
        throw error;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    await keeper;
    expect(settling).toEqual([[taken]]);
    // Heartbeats every 10 ms for 300 ms: well over half of them happened after the hang began.
    expect(renewals).toBeGreaterThan(10);
    expect(reclaims).toBeGreaterThan(5);
  });

  test("a streak of failed renewals is reported as its first once, then as working again when it does", async () => {
    let renewals = 0;
    const keeper = reportingKeeper(
      // Renewals 3 to 12 fail (an outage), then 16 to 18 (another).
      async () => {
        renewals++;
        if ((renewals >= 3 && renewals <= 12) || (renewals >= 16 && renewals <= 18))
          throw new Error(`down (${renewals})`);
        return [];
      },
      () => [{ id: "mine", fence: 1 }],
      (error, during, first) => `${first ? "first" : "again"} ${during} ${error.message}`,
    );
    while (renewals < 22) await new Promise((resolve) => setTimeout(resolve, 5));
    const reports = await keeper.stop();
    expect(reports.filter((r) => r.startsWith("first"))).toEqual([
      "first heartbeat down (3)",
      "first heartbeat down (16)",
    ]);
    expect(reports.filter((r) => r.startsWith("again"))).toHaveLength(9 + 2);
    expect(reports.filter((r) => r.startsWith("recovered"))).toEqual([
      "recovered heartbeat",
      "recovered heartbeat",
    ]);
    expect(reports.indexOf("recovered heartbeat")).toBe(10);
  });

  test("with no claims left to renew, a failing streak is not reported as working again", async () => {
    let renewals = 0;
    let heartbeats = 0;
    const keeper = reportingKeeper(
      async () => {
        renewals++;
        throw new Error("down");
      },
      // Claims for three heartbeats, then none (the tasks ended, or were lost).
      () => (++heartbeats <= 3 ? [{ id: "mine", fence: 1 }] : []),
      (_error, during, first) => `${first ? "first" : "again"} ${during}`,
    );
    while (heartbeats < 10) await new Promise((resolve) => setTimeout(resolve, 5));
    const reports = await keeper.stop();
    expect(renewals).toBe(3);
    expect(reports).toEqual(["first heartbeat", "again heartbeat", "again heartbeat"]);
  });
});
