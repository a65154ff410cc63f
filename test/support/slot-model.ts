/**
 * A random walk over the operations that move tasks with concurrency keys
 * (add, claim, settle every way, cancel, promote, take over), checked after
 * every step against what keys promise: never more of one key claimed at
 * once than its limit. Then the queue is drained: every task that was not
 * cancelled must finish — a slot that leaked would leave a task held forever.
 */
import fc from "fast-check";
import { expect } from "vitest";
import type { Backend, ClaimedTask } from "../../src/backends/backend.js";
import { type TaskData, task } from "../../src/index.js";

const LIMITS: Record<string, number> = { a: 1, b: 2, c: 1 };
const walked = task({ name: "slot-model.walked" }, (n: number) => n);

const key = fc.constantFrom("a", "b", "c", null);
export const slotOps = fc.array(
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({ op: fc.constant("add" as const), key, later: fc.boolean() }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("claim" as const),
        n: fc.integer({ min: 1, max: 4 }),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant("settle" as const),
        pick: fc.nat(),
        how: fc.constantFrom("completed", "failed", "retryNow", "retryLater", "putOff"),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("cancel" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("promote" as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("takeOver" as const), pick: fc.nat() }) },
  ),
  { maxLength: 40 },
);

type Op = typeof slotOps extends fc.Arbitrary<(infer O)[]> ? O : never;

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs `ops` on a fresh queue of `backend`, checking the limits throughout and that nothing is left held. */
export async function walkSlots(
  backend: Backend,
  queue: string,
  ops: readonly Op[],
): Promise<void> {
  const claims = new Map<string, ClaimedTask>();
  const ids: string[] = [];
  const cancelled = new Set<string>();
  let n = 0;
  const base = Date.now();
  const later = base + 3_600_000;

  const check = () => {
    const perKey = new Map<string, number>();
    for (const c of claims.values()) {
      const k = c.record.concurrencyKey;
      if (k !== null) perKey.set(k, (perKey.get(k) ?? 0) + 1);
    }
    for (const [k, count] of perKey)
      expect(count, `claimed with key ${k}`).toBeLessThanOrEqual(LIMITS[k]!);
  };
  const settle = async (claim: ClaimedTask, record: TaskData) => {
    claims.delete(claim.record.id);
    const [result] = await backend.settle(
      queue,
      [{ fence: claim.fence, record, children: [], expiresAt: null }],
      Date.now(),
    );
    expect(result).toBe("settled");
  };
  const claimSome = async (count: number) => {
    for (const c of await backend.claim(queue, count)) claims.set(c.record.id, c);
  };

  for (const step of ops) {
    const held = [...claims.values()];
    switch (step.op) {
      case "add": {
        const record: TaskData = {
          ...walked(n++).toJSON(),
          status: step.later ? "scheduled" : "pending",
          scheduledAt: step.later ? iso(later) : null,
          concurrencyKey: step.key,
          ...(step.key === null ? {} : { concurrencyLimit: LIMITS[step.key]! }),
        };
        ids.push(record.id);
        expect(await backend.add(queue, [record])).toEqual([true]);
        break;
      }
      case "claim":
        await claimSome(step.n);
        break;
      case "settle": {
        const claim = held[step.pick % Math.max(1, held.length)];
        if (!claim) break;
        const r = claim.record;
        const now = Date.now();
        const record: TaskData =
          step.how === "completed" || step.how === "failed"
            ? { ...r, status: step.how, finishedAt: iso(now) }
            : step.how === "retryNow"
              ? {
                  ...r,
                  status: "retrying",
                  retryCount: r.retryCount + 1,
                  nextRetryAt: iso(now - 1),
                }
              : step.how === "retryLater"
                ? {
                    ...r,
                    status: "retrying",
                    retryCount: r.retryCount + 1,
                    nextRetryAt: iso(later),
                  }
                : { ...r, status: "scheduled", scheduledAt: iso(later) };
        await settle(claim, record);
        break;
      }
      case "cancel": {
        const id = ids[step.pick % Math.max(1, ids.length)];
        if (id && !claims.has(id)) {
          const done = await backend.cancel(queue, id, { at: Date.now(), expiresAt: null });
          if (done) cancelled.add(id);
        }
        break;
      }
      case "promote":
        await backend.promoteDue(queue, later + 1);
        break;
      case "takeOver": {
        const claim = held[step.pick % Math.max(1, held.length)];
        if (!claim) break;
        // Every claim is expired for a lease of -1 ms: the ones taken over get new fences.
        for (const taken of await backend.reclaimExpired(queue, { leaseMs: -1, confirmMs: 0 })) {
          claims.set(taken.record.id, taken);
        }
        break;
      }
    }
    check();
  }

  // Drain: everything claimable or due must run to its end.
  for (let round = 0; round < 500; round++) {
    for (const claim of [...claims.values()]) {
      await settle(claim, { ...claim.record, status: "completed", finishedAt: iso(Date.now()) });
    }
    await backend.promoteDue(queue, later + 1);
    await claimSome(10);
    check();
    if (claims.size === 0) break;
  }
  const stored = await backend.getTasks(queue, ids);
  const unfinished = ids.filter((id) => stored.get(id)?.finishedAt === null);
  expect(unfinished, "tasks left unfinished (a leaked slot holds them)").toEqual([]);
  expect(await backend.size(queue)).toBe(0);
  expect((await backend.getStats(queue)).pending).toBe(0);
}
