/**
 * The lease keeper renews this worker's claims on time whatever happens to
 * the claims it takes over: settling a takeover may be retried for a long
 * while (the backend is struggling), and this worker's own claims must not
 * expire meanwhile.
 */
import { describe, expect, test } from "vitest";
import type { ClaimedTask } from "../../src/backends/backend.js";
import { systemClock } from "../../src/clock.js";
import type { Queue } from "../../src/queue/queue.js";
import { runLeaseKeeper } from "../../src/worker/lease-keeper.js";

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
    const queue = {
      name: "q",
      backend: {
        // Renewals 3 to 12 fail (an outage), then 16 to 18 (another).
        renew: async () => {
          renewals++;
          if ((renewals >= 3 && renewals <= 12) || (renewals >= 16 && renewals <= 18))
            throw new Error(`down (${renewals})`);
          return [];
        },
        reclaimExpired: async () => [],
      },
    } as unknown as Queue;
    const stop = new AbortController();
    const reports: string[] = [];
    const keeper = runLeaseKeeper({
      queues: [queue],
      clock: systemClock,
      heartbeatMs: 5,
      reclaimMs: 60_000,
      leaseMs: 1000,
      confirmMs: 0,
      signal: stop.signal,
      claimsIn: () => [{ id: "mine", fence: 1 }],
      onLost: () => undefined,
      onExpired: async () => undefined,
      onError: (error, during, first) => {
        reports.push(`${first ? "first" : "again"} ${during} ${(error as Error).message}`);
      },
      onRecovered: (during) => reports.push(`recovered ${during}`),
    });
    while (renewals < 22) await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort();
    await keeper;
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
    const queue = {
      name: "q",
      backend: {
        renew: async () => {
          renewals++;
          throw new Error("down");
        },
        reclaimExpired: async () => [],
      },
    } as unknown as Queue;
    const stop = new AbortController();
    const reports: string[] = [];
    const keeper = runLeaseKeeper({
      queues: [queue],
      clock: systemClock,
      heartbeatMs: 5,
      reclaimMs: 60_000,
      leaseMs: 1000,
      confirmMs: 0,
      signal: stop.signal,
      // Claims for three heartbeats, then none (the tasks ended, or were lost).
      claimsIn: () => (++heartbeats <= 3 ? [{ id: "mine", fence: 1 }] : []),
      onLost: () => undefined,
      onExpired: async () => undefined,
      onError: (_error, during, first) => reports.push(`${first ? "first" : "again"} ${during}`),
      onRecovered: (during) => reports.push(`recovered ${during}`),
    });
    while (heartbeats < 10) await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort();
    await keeper;
    expect(renewals).toBe(3);
    expect(reports).toEqual(["first heartbeat", "again heartbeat", "again heartbeat"]);
  });
});
