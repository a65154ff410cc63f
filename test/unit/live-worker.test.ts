/**
 * A worker's announcement as stored and read back (`queue/live-worker`):
 * whatever a stored announcement holds — written by this version, by hand,
 * or by another version — reading it never throws and gives either a
 * well-typed worker or nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ANNOUNCED_TASK_NAME_CHARS,
  decodeLiveWorker,
  definesTask,
  encodeWorkerAnnouncement,
  type LiveWorker,
  MAX_ANNOUNCED_TASKS,
  type WorkerAnnouncement,
} from "../../src/queue/live-worker.js";

const count = fc.nat({ max: 1_000_000 });
const announcement: fc.Arbitrary<WorkerAnnouncement> = fc
  .tuple(
    fc.record({
      host: fc.string({ unit: "grapheme" }),
      pid: count,
      startedAt: fc
        .date({ min: new Date(0), max: new Date(4_102_444_800_000), noInvalidDate: true })
        .map((d) => d.toISOString()),
      queues: fc.array(fc.string({ unit: "grapheme" }), { maxLength: 5 }),
      concurrency: count,
      state: fc.constantFrom("running", "paused", "stopping"),
      holding: count,
      holdingAll: count,
      taskIds: fc.array(fc.uuid(), { maxLength: 20 }),
      processing: fc.boolean(),
      scheduler: fc.boolean(),
      cronManager: fc.boolean(),
      version: fc.string(),
      everyMs: count,
      tasks: fc.array(fc.string({ unit: "grapheme" }), { maxLength: 5 }),
    }),
    fc.nat({ max: 5 }),
  )
  // A cut list counts more names than it holds, never fewer.
  .map(([written, cut]) => ({ ...written, taskCount: written.tasks.length + cut }));

function expectWellTyped(worker: LiveWorker): void {
  expect(typeof worker.id).toBe("string");
  expect(typeof worker.host).toBe("string");
  expect(["running", "paused", "stopping"]).toContain(worker.state);
  for (const n of [
    worker.pid,
    worker.seenAgoMs,
    worker.concurrency,
    worker.holding,
    worker.holdingAll,
    worker.everyMs,
    worker.taskCount,
  ]) {
    expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
  }
  expect(Number.isNaN(Date.parse(worker.startedAt))).toBe(false);
  for (const list of [worker.queues, worker.taskIds, worker.tasks]) {
    expect(list.every((item) => typeof item === "string")).toBe(true);
  }
  for (const flag of [worker.processing, worker.scheduler, worker.cronManager]) {
    expect(typeof flag).toBe("boolean");
  }
  expect(typeof worker.version).toBe("string");
}

describe("a worker's announcement", () => {
  it("reads back as written, with the id and the time since it was made", () => {
    fc.assert(
      fc.property(announcement, fc.string(), count, (written, id, seenAgoMs) => {
        const read = decodeLiveWorker(id, encodeWorkerAnnouncement(written), seenAgoMs);
        expect(read).toEqual({ ...written, id, seenAgoMs });
      }),
    );
  });

  it("names at most the first 1,000 held tasks, and still counts them all", () => {
    const taskIds = Array.from({ length: MAX_ANNOUNCED_TASKS + 5 }, (_, i) => `t${i}`);
    const read = decodeLiveWorker(
      "w",
      encodeWorkerAnnouncement({
        host: "h",
        pid: 1,
        startedAt: new Date(0).toISOString(),
        queues: ["q"],
        concurrency: 2_000,
        state: "running",
        holding: taskIds.length,
        holdingAll: taskIds.length,
        taskIds,
        processing: true,
        scheduler: true,
        cronManager: true,
        version: "0.1.0",
        everyMs: 5_000,
        tasks: [],
        taskCount: 0,
      }),
      0,
    );
    expect(read?.taskIds).toEqual(taskIds.slice(0, MAX_ANNOUNCED_TASKS));
    expect(read?.holding).toBe(MAX_ANNOUNCED_TASKS + 5);
  });

  it("names the first task names it defines that fit in 2,000 characters, counts them all, and tells whether it defines one only when it can", () => {
    // 20 characters each: 100 fit.
    const tasks = Array.from({ length: 103 }, (_, n) => `task.${String(n).padStart(15, "0")}`);
    const base = {
      host: "h",
      pid: 1,
      startedAt: new Date(0).toISOString(),
      queues: ["q"],
      concurrency: 1,
      state: "running" as const,
      holding: 0,
      holdingAll: 0,
      taskIds: [],
      processing: true,
      scheduler: true,
      cronManager: true,
      version: "0.1.0",
      everyMs: 5_000,
    };
    const cut = decodeLiveWorker(
      "w",
      encodeWorkerAnnouncement({ ...base, tasks, taskCount: tasks.length }),
      0,
    )!;
    expect(ANNOUNCED_TASK_NAME_CHARS).toBe(2_000);
    expect(cut.tasks).toEqual(tasks.slice(0, 100));
    expect(cut.taskCount).toBe(tasks.length);
    expect(definesTask(cut, tasks[0]!)).toBe(true);
    expect(definesTask(cut, tasks[102]!)).toBeUndefined();
    const whole = decodeLiveWorker(
      "w",
      encodeWorkerAnnouncement({ ...base, tasks: ["a"], taskCount: 1 }),
      0,
    )!;
    expect(definesTask(whole, "a")).toBe(true);
    expect(definesTask(whole, "b")).toBe(false);
    // An earlier version's announcement names none: it cannot tell.
    const { tasks: _, taskCount: __, ...earlier } = whole;
    const old = decodeLiveWorker("w", JSON.stringify({ v: 1, ...earlier }), 0)!;
    expect(old).toMatchObject({ tasks: [], taskCount: 0 });
    expect(definesTask(old, "a")).toBeUndefined();
  });

  it("whatever a stored text holds, reading it never throws: a well-typed worker or nothing", () => {
    const stored = fc.oneof(
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value) ?? "null"),
      fc
        .record(
          {
            host: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
            pid: fc.oneof(fc.integer(), fc.double(), fc.string()),
            startedAt: fc.oneof(
              fc.string(),
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            ),
            queues: fc.anything(),
            taskIds: fc.anything(),
            concurrency: fc.anything(),
            holding: fc.anything(),
            processing: fc.anything(),
            version: fc.anything(),
            state: fc.oneof(fc.string(), fc.constantFrom("running", "paused", "stopping")),
            holdingAll: fc.anything(),
            everyMs: fc.anything(),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(
        stored,
        fc.string(),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        (body, id, ago) => {
          const read = decodeLiveWorker(id, body, ago);
          if (read !== null) expectWellTyped(read);
        },
      ),
      { numRuns: 500 },
    );
  });
});
