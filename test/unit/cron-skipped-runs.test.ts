/**
 * Fire times that pass while no cron manager can reach the backend (a server
 * paused or down longer than the runs scheduled ahead, every worker alive)
 * are not made up, as missed fire times never are — but a worker's cron
 * manager now says so, naming how many and when, instead of nothing. A fire
 * time another worker scheduled is not said to be skipped.
 */
import { MemoryBackend, Queue, task } from "sheppy";
import { describe, expect, it } from "vitest";
import { type CronCoverage, scheduleRunsOf } from "../../src/queue/cron-runs.js";

const tick = task({ name: "cron-skipped-runs.tick" }, () => 1);

async function setUp() {
  const backend = new MemoryBackend({ instantProcessing: false });
  const queue = new Queue(backend, { name: "cron-skipped-runs" });
  await queue.addCron(tick(), { every: 5 });
  const skipped: number[][] = [];
  const coverage: CronCoverage = {
    scheduledUntil: new Map(),
    onSkipped: (_id, times) => skipped.push([...times]),
  };
  const schedule = async (at: number, withCoverage = true) =>
    scheduleRunsOf(
      backend,
      queue.name,
      await backend.getCrons(queue.name),
      at,
      3,
      undefined,
      20_000,
      withCoverage ? coverage : undefined,
    );
  return { queue, skipped, schedule };
}

describe("fire times that passed unscheduled", () => {
  it("are said once, at the first tick that reaches the backend again: how many, the first and the last", async () => {
    const { queue, skipped, schedule } = await setUp();
    const t0 = Date.now();
    await schedule(t0);
    expect(skipped).toEqual([]);
    // Two minutes without a tick that reached the backend.
    await schedule(t0 + 120_000);
    expect(skipped).toHaveLength(1);
    const times = skipped[0]!;
    // Every 5 s from past the runs scheduled ahead (20 s) to the tick: about 20 fire times.
    expect(times.length).toBeGreaterThanOrEqual(19);
    expect(times.length).toBeLessThanOrEqual(21);
    expect(times.every((at, i) => i === 0 || at - times[i - 1]! === 5000)).toBe(true);
    expect(times[0]!).toBeGreaterThan(t0 + 20_000 - 5000);
    expect(times.at(-1)!).toBeLessThan(t0 + 120_000);
    // None of them has a run: not made up.
    const runs = await queue.listTasks({ limit: 1000 });
    const runTimes = new Set(runs.tasks.map((run) => run.scheduledAt?.getTime()));
    expect(times.filter((at) => runTimes.has(at))).toEqual([]);
    // Said once: the next tick, on time, says nothing.
    await schedule(t0 + 125_000);
    expect(skipped).toHaveLength(1);
  });

  it("a fire time another worker scheduled meanwhile is not said to be skipped", async () => {
    const { skipped, schedule } = await setUp();
    const t0 = Date.now();
    await schedule(t0);
    // Another worker's manager reached the backend at t0 + 60 s (its runs up to t0 + 80 s).
    await schedule(t0 + 60_000, false);
    await schedule(t0 + 120_000);
    const times = skipped.flat();
    expect(times.length).toBeGreaterThan(0);
    // Not those the other worker scheduled (t0 + 60 s to t0 + 80 s); those before and after, yes.
    expect(times.filter((at) => at > t0 + 60_000 && at <= t0 + 80_000)).toEqual([]);
    expect(times.some((at) => at < t0 + 60_000)).toBe(true);
    expect(times.some((at) => at > t0 + 80_000)).toBe(true);
    expect(times.every((at) => at < t0 + 120_000)).toBe(true);
  });
});
