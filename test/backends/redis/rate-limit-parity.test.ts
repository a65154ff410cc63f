/**
 * The Redis rate-limit script against the TypeScript reference it mirrors.
 *
 * Property: for random limits (maxRate, period, strategy) and random request
 * times, `rate-limit.lua` on fresh keys gives the same answer as `acquireSlot`
 * on a fresh state at every request — admitted, or the same whole number of
 * milliseconds to wait — and leaves the same window behind. The period goes
 * through the Redis wrapper's rounding (whole milliseconds, at least 1) on
 * both sides, as a worker's `ratePeriod` in seconds × 1000 would; `now` is
 * passed as is, fractions included (a `TestClock` advanced by 0.07 s gives
 * them).
 *
 * Size: SHEPPY_PARITY_RUNS sequences of non-decreasing times (default 5,000)
 * plus a fifth as many where time also goes back (workers whose clocks
 * disagree); each sequence is 1 to 60 requests, about 175,000 in all by
 * default. A failure prints fast-check's seed and path: replay it with
 * `SHEPPY_PARITY_SEED=<seed> SHEPPY_PARITY_PATH=<path> npx vitest run <this
 * file> -t "<the failing test>"`.
 *
 * Also here: the script refuses bad arguments before writing anything, and
 * treats a stored state it cannot read as a fresh window instead of failing.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { acquireSlot, newRateWindowState } from "sheppy/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineScripts, type ScriptRunner } from "../../../src/backends/redis/scripts.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);

const RUNS = Number(process.env.SHEPPY_PARITY_RUNS ?? 5000);
/** Sequences with clock skew: fewer, as they add only the backward step to the mix. */
const SKEWED_RUNS = Math.ceil(RUNS / 5);
const SEED = process.env.SHEPPY_PARITY_SEED;
const PATH = process.env.SHEPPY_PARITY_PATH;

type Strategy = "sliding_window" | "fixed_window";

/** How far the next request comes after the previous one. */
type Step =
  | { kind: "same" }
  | { kind: "small"; ms: number }
  | { kind: "periods"; count: number; offset: number }
  | { kind: "stagger"; count: number }
  | { kind: "retry"; early: number }
  | { kind: "jump"; ms: number }
  /** A request from a worker whose clock is behind the previous caller's: time goes back. */
  | { kind: "behind"; periods: number };

interface Scenario {
  maxRate: number;
  /** The task option, in seconds: the worker asks with `ratePeriod * 1000`. */
  ratePeriod: number;
  strategy: Strategy;
  start: number;
  steps: Step[];
  ids: string[];
  /** Per request: the task back at a slot an earlier refusal gave it (absent: none is). */
  atSlots?: boolean[];
}

/** What `rate-limiter.ts` sends as the period. */
const wrapperPeriod = (periodMs: number) => Math.max(1, Math.round(periodMs));

/** Seconds × 1000 as a `TestClock` or a worker computes it: 0.07 s is 70.00000000000001 ms. */
const decimalSecondsMs = (hundredths: number) => (hundredths / 100) * 1000;

const ratePeriodArb: fc.Arbitrary<number> = fc.oneof(
  // Sub-second, in thousandths of a second (float noise included: 0.007 × 1000).
  fc.integer({ min: 1, max: 999 }).map((n) => n / 1000),
  // Fractions of a millisecond to a couple of seconds: the wrapper rounds them.
  fc.double({ min: 0.0001, max: 2, noNaN: true }),
  fc.integer({ min: 1, max: 3600 }),
  // Hours, whole and fractional.
  fc.integer({ min: 1, max: 48 }).map((h) => h * 3600),
  fc.double({ min: 0.5, max: 48, noNaN: true }).map((h) => h * 3600),
);

const startArb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 100_000 }),
  fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1) }),
  // Epoch times with fractions at full double precision.
  fc.double({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1), noNaN: true }),
  fc
    .tuple(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.nat(99))
    .map(([t, n]) => t + decimalSecondsMs(n)),
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Step>({ kind: "same" }) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.integer({ min: 1, max: 99 }).map(decimalSecondsMs),
      )
      .map((ms): Step => ({ kind: "small", ms })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ count: fc.integer({ min: 0, max: 3 }), offset: fc.integer({ min: -2, max: 2 }) })
      .map(({ count, offset }): Step => ({ kind: "periods", count, offset })),
  },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 4 }).map((count): Step => ({ kind: "stagger", count })),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 }))
      .map((early): Step => ({ kind: "retry", early })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.integer({ min: 1000, max: 3_600_000 }),
        fc.integer({ min: 3_600_000, max: 400 * 86_400_000 }),
      )
      .map((ms): Step => ({ kind: "jump", ms })),
  },
);

const behindArb: fc.Arbitrary<Step> = fc
  .oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.constantFrom(0.5, 1, 1.5))
  .map((periods): Step => ({ kind: "behind", periods }));

const scenarioArb = (skewed: boolean): fc.Arbitrary<Scenario> =>
  fc
    .record({
      maxRate: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 5 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }) },
      ),
      ratePeriod: ratePeriodArb,
      strategy: fc.constantFrom<Strategy>("sliding_window", "fixed_window"),
      start: startArb,
      steps: fc.array(
        skewed
          ? fc.oneof({ weight: 4, arbitrary: stepArb }, { weight: 1, arbitrary: behindArb })
          : stepArb,
        { minLength: 0, maxLength: 59, size: "medium" },
      ),
    })
    .chain((s) =>
      fc
        .array(fc.constantFrom("t1", "t2", "task:with:colons"), {
          minLength: s.steps.length + 1,
          maxLength: s.steps.length + 1,
        })
        .chain((ids) =>
          fc
            .array(fc.boolean(), { minLength: ids.length, maxLength: ids.length })
            .map((atSlots) => ({ ...s, ids, atSlots })),
        ),
    );

/** Counterexamples the property once found, kept so they are checked whatever the seed. */
const KNOWN: Record<string, Scenario> = {
  "staggered slots keep their fraction at epoch times (stored with 17 digits, not 14)": {
    maxRate: 1,
    ratePeriod: 3600,
    strategy: "sliding_window",
    start: 2107365544913.75,
    steps: [{ kind: "same" }, { kind: "same" }],
    ids: ["t1", "t1", "t1"],
  },
  "a start counted at an earlier time is the oldest (callers' clocks disagree)": {
    maxRate: 2,
    ratePeriod: 1800,
    strategy: "sliding_window",
    start: Date.UTC(2020, 0, 1),
    steps: [{ kind: "behind", periods: 0.5 }, { kind: "same" }],
    ids: ["t1", "t1", "t1"],
  },
  "the same task admitted twice at times that print alike is counted twice": {
    maxRate: 4,
    ratePeriod: 1800,
    strategy: "sliding_window",
    start: Date.UTC(2020, 0, 1),
    steps: [
      { kind: "retry", early: 0 },
      { kind: "small", ms: 1 },
      { kind: "behind", periods: 6.781684027777779e-11 },
      { kind: "same" },
      { kind: "stagger", count: 4 },
      { kind: "behind", periods: 1 },
    ],
    ids: ["t1", "t1", "t2", "t1", "t1", "t1", "t2"],
  },
};

/** How far `step` moves the clock; only "behind" moves it back. */
function advance(step: Step, periodMs: number, maxRate: number, lastAnswer: number | null): number {
  switch (step.kind) {
    case "same":
      return 0;
    case "small":
    case "jump":
      return step.ms;
    case "periods":
      return Math.max(0, step.count * periodMs + step.offset);
    case "stagger":
      return (step.count * periodMs) / maxRate;
    case "retry":
      return Math.max(0, (lastAnswer ?? 0) - step.early);
    case "behind":
      return -step.periods * periodMs;
  }
}

/**
 * Runs the scenario through the reference, which also fixes the request
 * times: a "retry" step comes back when the previous refusal said to.
 */
function reference(s: Scenario) {
  const periodMs = wrapperPeriod(s.ratePeriod * 1000);
  const state = newRateWindowState();
  const times: number[] = [];
  const answers: (number | null)[] = [];
  let now = s.start;
  for (let i = 0; i <= s.steps.length; i++) {
    if (i > 0) now += advance(s.steps[i - 1]!, periodMs, s.maxRate, answers[i - 1] ?? null);
    times.push(now);
    answers.push(
      acquireSlot(state, {
        now,
        maxRate: s.maxRate,
        periodMs,
        strategy: s.strategy,
        atSlot: s.atSlots?.[i] ?? false,
      }),
    );
  }
  return { periodMs, times, answers, state };
}

describe.skipIf(!available)("redis: rate-limit.lua agrees with the TypeScript reference", () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true, enableAutoPipelining: true });
  let run: ScriptRunner;
  let counter = 0;

  /** Fresh keys laid out as `rate-limiter.ts` lays them out for one queue and limit key. */
  const freshKeys = () => {
    const tag = `{${prefix}:q${++counter}}`;
    return [`${tag}:rl:k:z`, `${tag}:rl:k:h`, `${tag}:rlkeys`] as const;
  };

  beforeAll(async () => {
    await client.connect();
    run = defineScripts(client);
    // Loads the script once, so the pipelined calls below all go by SHA, in order.
    const keys = freshKeys();
    await run("rateLimit", keys, [1, 1000, "warm-up", "sliding_window", 0]);
    await client.del(...keys);
  });

  afterAll(async () => {
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  /** The script's answers for the requests at `times`, sent in one pipeline, plus the final state. */
  async function script(s: Scenario, periodMs: number, times: number[]) {
    const keys = freshKeys();
    const replies = times.map(
      (now, i) =>
        run("rateLimit", keys, [
          s.maxRate,
          periodMs,
          s.ids[i]!,
          s.strategy,
          now,
          s.atSlots?.[i] === true ? 1 : 0,
        ]) as Promise<number>,
    );
    const zcard = client.zcard(keys[0]);
    const hash = client.hgetall(keys[1]);
    const raw = await Promise.all(replies);
    const state = { zcard: await zcard, hash: await hash };
    await client.del(...keys);
    // -1 is the only "admitted"; any other negative answer is a bug, so it stays a number.
    return { answers: raw.map((r) => (r === -1 ? null : r)), state };
  }

  /** The same answer at every request, and the same state left behind. */
  async function agree(s: Scenario) {
    const ref = reference(s);
    const lua = await script(s, ref.periodMs, ref.times);
    expect({ times: ref.times, answers: lua.answers }).toEqual({
      times: ref.times,
      answers: ref.answers,
    });
    // The last request pruned both at the same `now`, so what is left must match too.
    if (s.strategy === "sliding_window") {
      expect(lua.state.zcard).toBe(ref.state.admitted.length);
    } else {
      expect(Number(lua.state.hash.count)).toBe(ref.state.windowCount);
      expect(Number(lua.state.hash.start)).toBe(ref.state.windowStart);
    }
    // The slot the next first ask is told comes after: the same on both sides.
    expect(Number(lua.state.hash.next ?? 0)).toBe(ref.state.nextSlot);
  }

  const agreeOn = (scenarios: fc.Arbitrary<Scenario>, runs: number) =>
    fc.assert(fc.asyncProperty(scenarios, agree), {
      numRuns: runs,
      ...(SEED === undefined ? {} : { seed: Number(SEED) }),
      ...(PATH === undefined ? {} : { path: PATH }),
    });

  it.each(Object.entries(KNOWN))("%s", async (_name, scenario) => {
    await agree(scenario);
  });

  it(`gives the same answer at every request (${RUNS} random sequences of non-decreasing times)`, async () => {
    await agreeOn(scenarioArb(false), RUNS);
  });

  it(`also when callers' clocks disagree and time goes back (${SKEWED_RUNS} random sequences)`, async () => {
    await agreeOn(scenarioArb(true), SKEWED_RUNS);
  });
});

describe.skipIf(!available)("redis: rate-limit.lua guards its arguments and its state", () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true });
  let run: ScriptRunner;
  let counter = 0;
  const freshKeys = () => {
    const tag = `{${prefix}:guard${++counter}}`;
    return { z: `${tag}:rl:k:z`, h: `${tag}:rl:k:h`, set: `${tag}:rlkeys` };
  };
  type Keys = ReturnType<typeof freshKeys>;

  const GOOD = {
    maxRate: "1",
    period: "1000",
    taskId: "t1",
    strategy: "fixed_window",
    now: "5000",
    atSlot: "0",
  };
  type Args = typeof GOOD;
  const call = (keys: Keys, args: Partial<Args> = {}) => {
    const a = { ...GOOD, ...args };
    return run(
      "rateLimit",
      [keys.z, keys.h, keys.set],
      [a.maxRate, a.period, a.taskId, a.strategy, a.now, a.atSlot],
    );
  };

  /** Everything the script could have written under `keys`, with expiries. */
  const snapshot = async (keys: Keys) => ({
    z: await client.zrange(keys.z, 0, -1, "WITHSCORES"),
    h: await client.hgetall(keys.h),
    set: (await client.smembers(keys.set)).sort(),
    ttl: [await client.pttl(keys.z), await client.pttl(keys.h)].map((ms) => ms > 0),
  });

  beforeAll(async () => {
    await client.connect();
    run = defineScripts(client);
  });

  afterAll(async () => {
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  const badArguments: [keyof Args, string, string][] = [
    ["maxRate", "x", "maxRate must be a positive integer"],
    ["maxRate", "0", "maxRate must be a positive integer"],
    ["maxRate", "-2", "maxRate must be a positive integer"],
    ["maxRate", "1.5", "maxRate must be a positive integer"],
    ["maxRate", "", "maxRate must be a positive integer"],
    ["maxRate", "inf", "maxRate must be a positive integer"],
    ["maxRate", "nan", "maxRate must be a positive integer"],
    ["period", "0", "period must be a positive finite number of ms"],
    ["period", "-1000", "period must be a positive finite number of ms"],
    ["period", "soon", "period must be a positive finite number of ms"],
    ["period", "inf", "period must be a positive finite number of ms"],
    ["period", "1e999", "period must be a positive finite number of ms"],
    ["period", "nan", "period must be a positive finite number of ms"],
    ["taskId", "", "task id must be a non-empty string"],
    ["strategy", "leaky_bucket", "strategy must be 'sliding_window' or 'fixed_window'"],
    ["strategy", "FIXED_WINDOW", "strategy must be 'sliding_window' or 'fixed_window'"],
    ["strategy", "", "strategy must be 'sliding_window' or 'fixed_window'"],
    ["now", "later", "now must be a finite number of ms"],
    ["now", "", "now must be a finite number of ms"],
    ["now", "-inf", "now must be a finite number of ms"],
    ["now", "nan", "now must be a finite number of ms"],
    ["atSlot", "yes", "the at-slot flag must be '0' or '1'"],
    ["atSlot", "", "the at-slot flag must be '0' or '1'"],
  ];

  it.each(badArguments)(
    "%s '%s' is refused with an error naming it, and no key is written",
    async (field, value, message) => {
      const keys = freshKeys();
      await expect(call(keys, { [field]: value })).rejects.toMatchObject({
        name: "ReplyError",
        message: `sheppy rate-limit: ${message} (got '${value}')`,
      });
      expect(await client.exists(keys.z, keys.h, keys.set)).toBe(0);
    },
  );

  it("a missing argument is named too; a long or multi-line value is shown short, on one line", async () => {
    const keys = freshKeys();
    await expect(
      run("rateLimit", [keys.z, keys.h, keys.set], ["1", "1000", "t1", "fixed_window"]),
    ).rejects.toMatchObject({
      message: "sheppy rate-limit: now must be a finite number of ms (got nothing)",
    });
    await expect(call(keys, { strategy: `fixed\r\n${"x".repeat(100)}` })).rejects.toMatchObject({
      message: `sheppy rate-limit: strategy must be 'sliding_window' or 'fixed_window' (got 'fixed??${"x".repeat(57)}...')`,
    });
    expect(await client.exists(keys.z, keys.h, keys.set)).toBe(0);
  });

  it.each(["sliding_window", "fixed_window"])(
    "%s: a bad call leaves an existing state exactly as it was",
    async (strategy) => {
      const keys = freshKeys();
      expect(await call(keys, { strategy, maxRate: "2" })).toBe(-1);
      expect(await call(keys, { strategy, maxRate: "2" })).toBe(-1);
      expect(await call(keys, { strategy, maxRate: "2" })).toBe(1000);
      const before = await snapshot(keys);
      for (const [field, value] of badArguments) {
        await expect(call(keys, { strategy, maxRate: "2", [field]: value })).rejects.toThrow(
          /^sheppy rate-limit: /,
        );
      }
      expect(await snapshot(keys)).toEqual(before);
    },
  );

  /** A fixed window of 1 per 1000 ms, full since 5000; `damage` then writes to it by hand. */
  const damagedFixedWindow = async (damage: (keys: Keys) => Promise<unknown>) => {
    const keys = freshKeys();
    expect(await call(keys)).toBe(-1);
    expect(await call(keys, { now: "5001" })).toBe(999);
    await damage(keys);
    return keys;
  };

  it.each([
    ["count", "abc"],
    ["count", "-1"],
    ["count", "1.5"],
    ["count", ""],
    ["start", "nan"],
    ["start", "xyz"],
    ["start", "inf"],
  ])(
    "fixed window: a stored %s of '%s' is read as a fresh window and overwritten",
    async (field, value) => {
      const keys = await damagedFixedWindow((k) => client.hset(k.h, field, value));
      // Intact, the window opened at 5000 would refuse this; unreadable, a new one opens.
      expect(await call(keys, { now: "5002" })).toBe(-1);
      expect(await client.hmget(keys.h, "start", "count")).toEqual(["5002", "1"]);
      // The new window counts again; the earlier refusal's staggered slot (7000) still stands.
      expect(await call(keys, { now: "5003" })).toBe(1997);
    },
  );

  it("an unreadable next slot counts as none: a refusal overwrites it, an admission removes it", async () => {
    const refused = await damagedFixedWindow((k) => client.hset(k.h, "next", "xyz"));
    // Intact, the next slot (6500) would be the answer; unreadable, the window's end (6000) is.
    expect(await call(refused, { now: "5002" })).toBe(998);
    expect(await client.hget(refused.h, "next")).toBe("7000");

    for (const strategy of ["sliding_window", "fixed_window"]) {
      const admitted = freshKeys();
      await client.hset(admitted.h, "next", "xyz");
      expect(await call(admitted, { strategy })).toBe(-1);
      expect(await client.hexists(admitted.h, "next")).toBe(0);
    }
  });

  it("sliding window: an infinite score (the only kind that is not a finite number) is read as a fresh window", async () => {
    const keys = freshKeys();
    await client.zadd(keys.z, "+inf", "junk");
    expect(await call(keys, { strategy: "sliding_window" })).toBe(-1);
    expect(await client.zrange(keys.z, 0, -1, "WITHSCORES")).toEqual(["t1:5000:0", "5000"]);
    expect(await call(keys, { strategy: "sliding_window", now: "5001" })).toBe(999);
  });

  it.each([
    ["fixed_window", "h", "hash"],
    ["sliding_window", "z", "zset"],
  ] as const)("%s: a state key of another type is replaced", async (strategy, key, type) => {
    const keys = freshKeys();
    await client.set(keys[key], "not a rate-limit state");
    expect(await call(keys, { strategy })).toBe(-1);
    expect(await client.type(keys[key])).toBe(type);
    expect(await call(keys, { strategy, now: "5001" })).toBe(999);
  });

  it("sliding window: an admission whose member name is already taken is still counted", async () => {
    const keys = freshKeys();
    // The name the next admission would get, already there with an older score.
    await client.zadd(keys.z, 4500, "t1:5000:1", 4400, "other");
    expect(await call(keys, { strategy: "sliding_window", maxRate: "3" })).toBe(-1);
    expect(await client.zcard(keys.z)).toBe(3);
    expect(await call(keys, { strategy: "sliding_window", maxRate: "3" })).toBe(400);
  });
});
