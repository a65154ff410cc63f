/**
 * The add and settle scripts write a call's index entries (the creation
 * index, the claimable list, the claimed and finished indexes, the expiries)
 * once per call rather than once per task. A call of many records must leave
 * Redis exactly as the same records sent one per call do: the same answers,
 * the same lists in the same order, the same hashes. Checked on random mixes
 * of new and stored ids, priorities, concurrency keys, due times, all three
 * add modes, settle outcomes (finished, retried later or at once, put back,
 * lost, sent twice in one call) and adds again over the settled records
 * (re-running finished and retrying ones), with and without a `maxFinished`
 * bound; and once with thousands of records, past the scripts' 2,000-item
 * command chunks.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { RedisBackend, task } from "sheppy";
import type { AddMode, Settlement } from "sheppy/backend";
import { TestClock } from "sheppy/testing";
import { afterAll, describe, expect, it } from "vitest";
import type { TaskData } from "../../../src/task/task-record.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const job = task({ name: "batched.job" }, (n: number) => n);

const START = Date.UTC(2026, 11, 2, 12);
const ISO = (ms: number) => new Date(ms).toISOString();

/** One record to add: which id of a small pool, and how it waits and is claimed. */
interface RecordPlan {
  slot: number;
  priority: number;
  key: string | null;
  limit: number;
  delayMs: number | null;
}

const recordPlan: fc.Arbitrary<RecordPlan> = fc.record({
  slot: fc.integer({ min: 0, max: 11 }),
  priority: fc.constantFrom(0, 0, 0, 3, -2),
  key: fc.constantFrom(null, null, "k1", "k2"),
  limit: fc.constantFrom(1, 2),
  delayMs: fc.constantFrom(null, null, null, 60_000),
});

/** What becomes of one claimed task: finished, retried (later, or due at once), put back, or a stale claim. */
type Outcome = "completed" | "retryLater" | "retryNow" | "putBack" | "stale";
/** Every outcome, a completion twice as often as the others. */
const OUTCOMES: readonly Outcome[] = [
  "completed",
  "completed",
  "retryLater",
  "retryNow",
  "putBack",
  "stale",
];

const scenario = fc.record({
  stored: fc.array(recordPlan, { maxLength: 8 }),
  claimFirst: fc.integer({ min: 0, max: 3 }),
  added: fc.array(recordPlan, { minLength: 1, maxLength: 12 }),
  mode: fc.constantFrom<AddMode>("unique", "replace", "rerun"),
  outcomes: fc.array(fc.constantFrom<Outcome>(...OUTCOMES), { maxLength: 16 }),
  repeat: fc.integer({ min: 0, max: 3 }),
  withChild: fc.boolean(),
  again: fc.array(recordPlan, { maxLength: 12 }),
  againMode: fc.constantFrom<AddMode>("unique", "replace", "rerun", "rerun"),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

/** The record of `plan`, its id one of a pool shared by both queues. */
function recordOf(plan: RecordPlan, run: number, n: number): TaskData {
  const data = job(n).toJSON();
  const id = `r${run}-${plan.slot}`;
  return {
    ...data,
    id,
    status: "pending",
    createdAt: ISO(START + n),
    priority: plan.priority,
    concurrencyKey: plan.key,
    ...(plan.key === null ? {} : { concurrencyLimit: plan.limit }),
    ...(plan.delayMs === null
      ? {}
      : { status: "scheduled" as const, scheduledAt: ISO(START + plan.delayMs) }),
  };
}

/** Distinct ids only: a second copy of an id within one call is a duplicate, unlike a later call. */
function distinctBySlot(plans: readonly RecordPlan[]): RecordPlan[] {
  const seen = new Set<number>();
  return plans.filter((p) => !seen.has(p.slot) && seen.add(p.slot));
}

function settlementFor(
  claimed: TaskData,
  fence: number,
  outcome: Outcome,
  child: TaskData | null,
): Settlement {
  const base = { fence: outcome === "stale" ? fence + 7 : fence, children: [], expiresAt: null };
  switch (outcome) {
    case "completed":
    case "stale":
      return {
        ...base,
        record: { ...claimed, status: "completed", result: 1, finishedAt: ISO(START + 5) },
        expiresAt: START + 3_600_000,
        children: child ? [child] : [],
        events: ["done"],
      };
    case "retryLater":
    case "retryNow":
      return {
        ...base,
        record: {
          ...claimed,
          status: "retrying",
          retryCount: claimed.retryCount + 1,
          lastRetryAt: ISO(START + 5),
          nextRetryAt: ISO(START + (outcome === "retryLater" ? 120_000 : -1)),
        },
      };
    case "putBack":
      return { ...base, record: { ...claimed, status: "pending", startedAt: null } };
  }
}

describe.skipIf(!available)("redis: one call of many records writes what calls of one do", () => {
  const client = new Redis(REDIS_URL);
  let run = 0;

  afterAll(async () => {
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  /** Every key of `queue` but its event log, keyed by its name after the queue's tag, normalised where calls differ. */
  async function stateOf(queue: string): Promise<Record<string, unknown>> {
    const tag = `{${prefix}:${queue}}`;
    const keys = (await client.keys(`${tag}*`)).sort();
    const state: Record<string, unknown> = {};
    for (const key of keys) {
      const name = key.slice(tag.length);
      const type = await client.type(key);
      if (type === "stream" || name.endsWith(":at")) continue;
      if (type === "list") state[name] = await client.lrange(key, 0, -1);
      else if (type === "zset") {
        // The claimed index is scored by the server's clock at each claim: its members are compared, not its scores.
        state[name] = name.endsWith(":processing")
          ? (await client.zrange(key, 0, -1)).sort()
          : await client.zrange(key, 0, -1, "WITHSCORES");
      } else if (type === "hash") {
        const fields = await client.hgetall(key);
        // Request tokens differ per call; a claim's listed fence keeps its fence and position.
        delete fields.rq;
        if (name.endsWith(":processing:fences")) {
          for (const [id, listed] of Object.entries(fields)) {
            fields[id] = listed.replace(/\/.*\//, "/");
          }
        }
        state[name] = fields;
      } else state[name] = await client.get(key);
    }
    return state;
  }

  /**
   * Runs scenario `s` (run number `n`) on two queues — each call whole on
   * one, one record per call on the other — and expects the same answers and
   * the same keys on both.
   */
  async function sameEitherWay(backend: RedisBackend, s: Scenario, n: number): Promise<void> {
    const stored = distinctBySlot(s.stored).map((p, i) => recordOf(p, n, i));
    const added = distinctBySlot(s.added).map((p, i) => recordOf(p, n, 100 + i));
    const again = distinctBySlot(s.again).map((p, i) => recordOf(p, n, 200 + i));
    const child = s.withChild
      ? { ...job(9).toJSON(), id: `c${n}`, status: "pending" as const }
      : null;
    const answers: unknown[][] = [];
    for (const [queue, oneByOne] of [
      [`b${n}`, false],
      [`s${n}`, true],
    ] as const) {
      const add = async (records: readonly TaskData[], mode: AddMode) => {
        if (!oneByOne) return records.length > 0 ? backend.add(queue, records, mode) : [];
        const results: boolean[] = [];
        for (const record of records) results.push(...(await backend.add(queue, [record], mode)));
        return results;
      };
      const answer: unknown[] = [];
      if (stored.length > 0) await backend.add(queue, stored, "unique");
      if (s.claimFirst > 0) await backend.claim(queue, s.claimFirst);
      answer.push(await add(added, s.mode));

      const claims = await backend.claim(queue, 5000);
      const settlements = claims
        .slice(0, s.outcomes.length)
        .map((c, i) => settlementFor(c.record, c.fence, s.outcomes[i]!, i === 0 ? child : null));
      for (let i = 0; i < s.repeat && i < settlements.length; i++)
        settlements.push(settlements[i]!);
      if (oneByOne) {
        for (const one of settlements) answer.push(await backend.settle(queue, [one], START + 10));
      } else if (settlements.length > 0) {
        answer.push(...(await backend.settle(queue, settlements, START + 10)).map((r) => [r]));
      }
      // Added again over what the settle left: finished and retrying records are re-run or replaced.
      answer.push(await add(again, s.againMode));
      answers.push(answer);
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(await stateOf(`b${n}`)).toEqual(await stateOf(`s${n}`));
  }

  it.each([
    ["without a bound on finished records", undefined],
    ["with maxFinished 3", 3],
  ])("add and settle, %s", async (_, maxFinished) => {
    const backend = new RedisBackend({
      url: REDIS_URL,
      prefix,
      clock: new TestClock(START),
      ...(maxFinished === undefined ? {} : { maxFinished }),
    });
    await backend.connect();
    try {
      // With a bound, a settlement sent again after its record was deleted past it is `lost`
      // one per call but `settled` within one call (the deletion comes at the call's end):
      // both right, so that run sends none again.
      const scenarios =
        maxFinished === undefined ? scenario : scenario.map((s) => ({ ...s, repeat: 0 }));
      await fc.assert(
        fc.asyncProperty(scenarios, (s) => sameEitherWay(backend, s, ++run)),
        { numRuns: 50 },
      );
    } finally {
      await backend.disconnect();
    }
  });

  it("add and settle of thousands of records, past the scripts' command chunks", async () => {
    const backend = new RedisBackend({ url: REDIS_URL, prefix, clock: new TestClock(START) });
    await backend.connect();
    const plans = (count: number, offset: number): RecordPlan[] =>
      Array.from({ length: count }, (_, i) => ({
        slot: offset + i,
        priority: [0, 0, 0, 3, -2][i % 5]!,
        key: i % 7 === 0 ? `k${i % 3}` : null,
        limit: 2,
        delayMs: i % 11 === 0 ? 60_000 : null,
      }));
    try {
      await sameEitherWay(
        backend,
        {
          stored: plans(300, 0),
          claimFirst: 3,
          added: plans(2300, 150),
          mode: "replace",
          outcomes: Array.from({ length: 2200 }, (_, i) => OUTCOMES[i % OUTCOMES.length]!),
          repeat: 3,
          withChild: true,
          again: plans(2100, 0),
          againMode: "rerun",
        },
        ++run,
      );
    } finally {
      await backend.disconnect();
    }
  }, 120_000);
});
