/**
 * Crons: `addCron` / `deleteCron` / `getCrons` on the Queue, deterministic
 * ids, and the worker's cron manager keeping the next runs scheduled — each
 * fire time one task, however many workers (on Redis, each worker on its own
 * backend instance and connections, in this one process). Time
 * runs on a `TestClock`, plus one real-clock case on a clock shifted to just
 * before a minute boundary (cron has minute precision).
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CronExpressionError, currentTask, InvalidOptionError, Task, task } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceUntil, shiftedClock } from "../support/clocks.js";
import { PerTest, until } from "../support/until.js";

const report = task({ name: "cron.report" }, (kind: string) => `report ${kind}`);
const summary = task({ name: "cron.summary", retry: 2, timeout: 30 }, (kind: string) => kind);

/** Ids of the runs that executed, per test, in order. */
const executed = new PerTest<string[]>(() => []);
const tick = task({ name: "cron.tick" }, (token: string) => {
  executed.get(token).push(currentTask().id);
  return "tick";
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const at = (iso: string) => Date.parse(iso);

export function cronCases(h: ContractHarness): void {
  describe("cron", () => {
    it("CRON-1 addCron returns true the first time and false for every repeat of the same definition", async () => {
      const queue = h.queue();
      expect(await queue.addCron(report("daily"), "0 9 * * *")).toBe(true);
      // A new Task object with the same name, args and options is the same cron.
      expect(await queue.addCron(report("daily"), "0 9 * * *")).toBe(false);
      expect(await queue.addCron(report("daily"), "  0 9  * * * ")).toBe(false);
      expect(await queue.getCrons()).toHaveLength(1);
    });

    it("CRON-2 changing the expression, the args or the task gives a separate cron", async () => {
      const queue = h.queue();
      const added = [
        await queue.addCron(report("daily"), "0 9 * * *"),
        await queue.addCron(report("daily"), "0 10 * * *"),
        await queue.addCron(report("weekly"), "0 9 * * *"),
        await queue.addCron(summary("daily"), "0 9 * * *"),
      ];
      expect(added).toEqual([true, true, true, true]);
      const crons = await queue.getCrons();
      expect(crons).toHaveLength(4);
      expect(new Set(crons.map((c) => c.deterministicId)).size).toBe(4);
    });

    it("CRON-3 deleteCron returns true once, then false; an unknown cron is false; all deleted → none left", async () => {
      const queue = h.queue();
      await queue.addCron(report("a"), "*/5 * * * *");
      await queue.addCron(report("b"), "@hourly");
      expect(await queue.deleteCron(report("a"), "*/5 * * * *")).toBe(true);
      expect(await queue.deleteCron(report("a"), "*/5 * * * *")).toBe(false);
      expect(await queue.deleteCron(report("never"), "*/5 * * * *")).toBe(false);
      expect((await queue.getCrons()).map((c) => c.args)).toEqual([["b"]]);
      expect(await queue.deleteCron(report("b"), "@hourly")).toBe(true);
      expect(await queue.getCrons()).toEqual([]);
    });

    it("CRON-3 deleteCron also takes either id getCrons lists for a cron (true once, then false)", async () => {
      const queue = h.queue();
      await queue.addCron(report("a"), "*/5 * * * *");
      await queue.addCron(report("b"), "@hourly");
      const [first] = await queue.getCrons();
      expect(await queue.deleteCron(first!.deterministicId)).toBe(true);
      expect(await queue.deleteCron(first!.deterministicId)).toBe(false);
      expect(await queue.deleteCron("no-such-cron")).toBe(false);
      expect((await queue.getCrons()).map((c) => c.args)).toEqual([["b"]]);
      await expect(queue.deleteCron("")).rejects.toThrow(/cron id/);
      // Either id getCrons lists: the registration's `id` as well as the `deterministicId`.
      const [second] = await queue.getCrons();
      expect(await queue.deleteCron(second!.id)).toBe(true);
      expect(await queue.deleteCron(second!.id)).toBe(false);
      expect(await queue.getCrons()).toEqual([]);
    });

    it("CRON-3 deleteCron takes a definition as getCrons lists it; one of another queue is refused, naming both queues", async () => {
      const queue = h.queue();
      const other = h.queue();
      await queue.addCron(report("a"), "*/5 * * * *");
      await queue.addCron(report("b"), { every: 60 });
      await other.addCron(report("c"), "@hourly");
      const [theirs] = await other.getCrons();
      await expect(queue.deleteCron(theirs!)).rejects.toThrow(
        `queue.deleteCron(): the cron ${theirs!.id} belongs to queue '${other.name}', not '${queue.name}'`,
      );
      for (const cron of await queue.getCrons()) expect(await queue.deleteCron(cron)).toBe(true);
      expect(await queue.getCrons()).toEqual([]);
      expect((await queue.stats()).scheduled).toBe(0);
      expect(await other.getCrons()).toHaveLength(1);
      await expect(queue.deleteCron(theirs!)).rejects.toThrow(InvalidOptionError);
    });

    it("CRON-4 getCrons gives each definition's ids, expression, task spec, owner and next run by the queue's clock", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:30Z"));
      const queue = h.queue({ clock });
      const t = summary("weekly");
      await queue.addCron(t, "*/5   * * * *");
      const [cron] = await queue.getCrons();
      expect(cron).toEqual({
        id: expect.stringMatching(UUID),
        deterministicId: expect.stringMatching(UUID_V5),
        expression: "*/5 * * * *",
        every: null,
        timezone: "UTC",
        name: "cron.summary",
        args: ["weekly"],
        config: t.config,
        queue: queue.name,
        managedBy: null,
        createdAt: new Date(at("2030-01-01T08:00:30Z")),
        nextRunAt: new Date(at("2030-01-01T08:05:00Z")),
      });
      await clock.advanceTo(at("2030-01-01T08:05:00Z"));
      expect((await queue.getCrons())[0]?.nextRunAt?.toISOString()).toBe(
        "2030-01-01T08:10:00.000Z",
      );
    });

    it("CRON-5 / CRON-6 equal definitions in two queues share the deterministic id, not the random id", async () => {
      const [first, second] = [h.queue(), h.queue()];
      await first.addCron(report("x"), "0 0 * * 0");
      await second.addCron(report("x"), "0 0 * * 0");
      const [a] = await first.getCrons();
      const [b] = await second.getCrons();
      expect(a?.deterministicId).toBe(b?.deterministicId);
      expect(a?.id).not.toBe(b?.id);
    });

    it("CRON-7 / CRON-8 valid expressions are accepted; an invalid one is a CronExpressionError naming it and stores nothing", async () => {
      const queue = h.queue();
      for (const expression of ["0 0 * * 7", "0 9-17 * * mon-fri", "@daily", "@annually"]) {
        expect(await queue.addCron(report(expression), expression)).toBe(true);
      }
      const rejected: unknown[] = [
        "not a cron",
        "",
        "* * * *",
        "60 * * * *",
        "*/0 * * * *",
        "@often",
        "*/5 * * * * *",
        "0 0 30 2 *",
        5,
        null,
      ];
      for (const expression of rejected) {
        const attempt = queue.addCron(report("bad"), expression as string);
        await expect(attempt).rejects.toThrow(CronExpressionError);
      }
      await expect(queue.addCron(report("bad"), "61 * * * *")).rejects.toThrow(InvalidOptionError);
      await expect(queue.addCron(report("bad"), "61 * * * *")).rejects.toThrow(
        /queue\.addCron\(\): invalid cron expression '61 \* \* \* \*'/,
      );
      await expect(queue.addCron(report as never, "@daily")).rejects.toThrow(/expects a Task/);
      expect(await queue.getCrons()).toHaveLength(4);
    });

    it("CRON-13 clear() removes the queue's crons and their scheduled runs, and counts them", async () => {
      const queue = h.queue();
      await queue.addCron(report("a"), "@daily");
      await queue.addCron(report("b"), "@daily");
      await queue.add(report("now"));
      // Each cron with its next 3 runs (scheduled by addCron), and the task.
      expect(await queue.getScheduled(100)).toHaveLength(6);
      expect(await queue.clear()).toBe(9);
      expect(await queue.getCrons()).toEqual([]);
      expect(await queue.getScheduled(100)).toEqual([]);
    });

    it("CRON-15 addCron schedules the new cron's first runs itself: its next 3 and every run in the next 20 s, the first of them getCrons' nextRunAt", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:01Z"));
      const queue = h.queue({ clock });
      expect(await queue.addCron(report("soon"), { every: 2 })).toBe(true);
      const [cron] = await queue.getCrons();
      const runs = (await queue.getScheduled(100)).filter(
        (t) => t.cronId === cron?.deterministicId,
      );
      const times = runs.map((t) => t.scheduledAt?.toISOString()).sort();
      expect(times).toHaveLength(10);
      expect(times[0]).toBe("2030-01-01T08:00:02.000Z");
      expect(times.at(-1)).toBe("2030-01-01T08:00:20.000Z");
      expect(cron?.nextRunAt?.toISOString()).toBe(times[0]);
      // Adding it again adds nothing, runs included.
      expect(await queue.addCron(report("soon"), { every: 2 })).toBe(false);
      expect(await queue.getScheduled(100)).toHaveLength(10);
    });

    it("CRON-12 the worker's cron manager keeps the next 3 runs scheduled, with ids derived from cron and fire time", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:30Z"));
      const queue = h.queue({ clock });
      await queue.addCron(report("r"), "*/5 * * * *");
      const [cron] = await queue.getCrons();
      const worker = h.worker(queue, { clock, processing: false, scheduler: false });
      const running = worker.work();
      const runs = await until(async () => {
        const scheduled = await queue.getScheduled();
        return scheduled.length === 3 ? scheduled : null;
      });
      expect(runs.map((r) => r.scheduledAt?.toISOString())).toEqual([
        "2030-01-01T08:05:00.000Z",
        "2030-01-01T08:10:00.000Z",
        "2030-01-01T08:15:00.000Z",
      ]);
      for (const run of runs) {
        expect(run.id).toMatch(UUID_V5);
        expect([run.status, run.name, run.args, run.cronId]).toEqual([
          "scheduled",
          "cron.report",
          ["r"],
          cron?.deterministicId,
        ]);
      }
      // The next tick after 08:05 adds 08:20; the runs already there stay as they are.
      await advanceUntil(clock, async () => (await queue.getScheduled()).length === 4, {
        step: 10,
        what: "a fourth run scheduled",
      });
      const after = await queue.getScheduled();
      expect(after.slice(0, 3).map((r) => r.id)).toEqual(runs.map((r) => r.id));
      expect(after[3]?.scheduledAt?.toISOString()).toBe("2030-01-01T08:20:00.000Z");
      await worker.close();
      await running;
    });

    it("CRON-11 '*/5 * * * *' with two workers (on Redis: each on its own backend instance and connections): each fire time becomes exactly one task, run once", async () => {
      const clock = new TestClock(at("2030-01-01T08:04:50Z"));
      const queue = h.queue({ clock });
      const other = h.sibling(queue, { clock });
      const token = randomUUID();
      expect(await queue.addCron(tick(token), "*/5 * * * *")).toBe(true);
      const [cron] = await queue.getCrons();
      const workers = [h.worker(queue, { clock }), h.worker(other, { clock })];
      const running = workers.map((w) => w.work());

      const runsOf = async () =>
        (await queue.getAllTasks()).filter((t) => t.cronId === cron?.deterministicId);
      const completed = async () => (await runsOf()).filter((t) => t.status === "completed");
      // 130 steps of the fake clock, each with two workers' loops and a listing in between: on a
      // loaded machine (a CI run beside other work) more than the default 10 s of real time.
      await advanceUntil(clock, async () => (await completed()).length >= 3, {
        step: 5,
        what: "three runs completed",
        timeoutMs: 45_000,
      });
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(running);

      const runs = await runsOf();
      const fireTimes = runs.map((t) => t.scheduledAt!.toISOString());
      expect(new Set(fireTimes).size).toBe(runs.length);
      expect(new Set(runs.map((t) => t.id)).size).toBe(runs.length);
      const done = (await completed()).map((t) => t.scheduledAt!.toISOString()).sort();
      expect(done.slice(0, 3)).toEqual([
        "2030-01-01T08:05:00.000Z",
        "2030-01-01T08:10:00.000Z",
        "2030-01-01T08:15:00.000Z",
      ]);
      const ran = executed.get(token);
      expect(new Set(ran).size).toBe(ran.length);
      expect(ran.sort()).toEqual((await completed()).map((t) => t.id).sort());
    }, 60_000);

    it("CRON-3 deleteCron removes the runs still waiting for their time, leaving no record (decided)", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:30Z"));
      const queue = h.queue({ clock });
      await queue.addCron(report("gone"), "@hourly");
      await queue.addCron(report("kept"), "@hourly");
      const worker = h.worker(queue, { clock, processing: false, scheduler: false });
      const running = worker.work();
      await until(async () => (await queue.getScheduled()).length === 6);
      await worker.close();
      await running;
      expect(await queue.deleteCron(report("gone"), "@hourly")).toBe(true);
      const left = await queue.getScheduled();
      expect(left.map((t) => t.args)).toEqual([["kept"], ["kept"], ["kept"]]);
      // Removed, not kept as `cancelled`: a record would hold on to the run's id.
      const all = await queue.getAllTasks();
      expect(all.filter((t) => t.args[0] === "gone")).toEqual([]);
      expect(all).toHaveLength(3);
    });

    it("CRON-3 / CRON-12 a cron deleted and added again gets its next 3 runs scheduled again", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:30Z"));
      const queue = h.queue({ clock });
      await queue.addCron(report("again"), "*/5 * * * *");
      const scheduledRuns = async () => {
        const worker = h.worker(queue, { clock, processing: false, scheduler: false });
        const running = worker.work();
        const runs = await until(async () => {
          const scheduled = await queue.getScheduled();
          return scheduled.length === 3 ? scheduled : null;
        });
        await worker.close();
        await running;
        return runs;
      };
      const before = await scheduledRuns();
      expect(await queue.deleteCron(report("again"), "*/5 * * * *")).toBe(true);
      expect(await queue.getScheduled()).toEqual([]);
      expect(await queue.addCron(report("again"), "*/5 * * * *")).toBe(true);
      // Run ids depend only on (cron, fire time), so the re-added cron's runs reuse the same ids.
      const after = await scheduledRuns();
      expect(after.map((t) => t.id)).toEqual(before.map((t) => t.id));
      expect(after.map((t) => [t.status, t.scheduledAt?.toISOString()])).toEqual([
        ["scheduled", "2030-01-01T08:05:00.000Z"],
        ["scheduled", "2030-01-01T08:10:00.000Z"],
        ["scheduled", "2030-01-01T08:15:00.000Z"],
      ]);
    });

    it("CRON-12 (real clock) a cron fires on time: a clock shifted to 0.5 s before a minute boundary", async () => {
      // Cron has minute precision: rather than wait up to a minute, the real clock is read
      // shifted so that the next minute starts in 0.5 s; timers and waits are real.
      const clock = shiftedClock(at("2030-01-01T08:04:59.500Z"));
      const queue = h.queue({ clock });
      const token = randomUUID();
      await queue.addCron(tick(token), "* * * * *");
      const worker = h.worker(queue, { clock });
      const running = worker.work();
      const first = await until(
        async () => {
          const done = (await queue.getAllTasks()).find((t) => t.status === "completed");
          return done ?? null;
        },
        { timeoutMs: 5000, what: "the 08:05 run completed" },
      );
      await worker.close();
      await running;
      expect(first).toBeInstanceOf(Task);
      expect(first.scheduledAt?.toISOString()).toBe("2030-01-01T08:05:00.000Z");
      expect(first.startedAt!.getTime()).toBeGreaterThanOrEqual(at("2030-01-01T08:05:00Z"));
      expect(executed.get(token)).toEqual([first.id]);
      const waiting = (await queue.getScheduled()).map((t) => t.scheduledAt?.toISOString());
      expect(waiting).toEqual(["2030-01-01T08:06:00.000Z", "2030-01-01T08:07:00.000Z"]);
    });

    it("CRON-14 listCronQueues names the queues that hold crons, sorted, not those that hold only tasks", async () => {
      const withCron = h.queue();
      const withTask = h.queue();
      const backend = await withCron.connect();
      await withCron.addCron(report("listed"), "0 9 * * *");
      await withTask.add(report("not a cron"));
      const mine = (names: string[]) =>
        names.filter((name) => name === withCron.name || name === withTask.name);
      const queues = await backend.listCronQueues();
      expect(mine(queues)).toEqual([withCron.name]);
      expect(queues).toEqual([...queues].sort());
      await withCron.deleteCron(report("listed"), "0 9 * * *");
      expect(mine(await backend.listCronQueues())).toEqual([]);
    });

    it("CRON-26 a run cancelled days before its fire time stays skipped: its record outlives a shorter error TTL until past that time", async () => {
      const clock = new TestClock(at("2030-01-01T08:00:00Z"));
      const queue = h.queue({ clock, errorTtl: 60 });
      await queue.addCron(report("weekly"), "0 9 * * 1");
      const runs = await queue.getScheduled(10);
      const last = runs.at(-1)!;
      const fireTime = last.scheduledAt!.getTime();
      expect(fireTime - clock.now()).toBeGreaterThan(7 * 86_400_000);
      expect((await queue.cancel(last)).status).toBe("cancelled");
      // Well past the error TTL, still there: the cron manager finds the fire time's run and adds none.
      await clock.advanceTo(fireTime - 60_000);
      expect((await queue.getTask(last))?.status).toBe("cancelled");
      const backend = await queue.connect();
      const [again] = await backend.add(queue.name, [{ ...last.toJSON(), status: "scheduled" }]);
      expect(again).toBe(false);
      // Once its fire time has passed (and the hour kept for workers' clocks), it expires.
      await clock.advanceTo(fireTime + 3_600_000 + 1);
      expect(await queue.getTask(last)).toBeNull();
    });
  });
}
