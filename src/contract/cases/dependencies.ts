/**
 * Dependency injection with `use(dep)` and the running task with
 * `currentTask()`: resolved when the task runs, never serialised; nested;
 * generator teardown after the task (newest first); one resolution per
 * attempt; overrides on the Worker.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { currentTask, type Dependency, DependencyError, task, use } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { numberAndLabelArgs } from "../support/schemas.js";
import { PerTest, sleep } from "../support/until.js";

function settings() {
  return { debug: true, env: "test" };
}
async function remoteSettings() {
  await sleep(1);
  return { debug: false, env: "production" };
}
/** Nested: depends on `settings`. */
async function databaseUrl() {
  const { env } = await use(settings);
  return `postgres://db/${env}`;
}
function fakeSettings() {
  return { debug: true, env: "fake" };
}

/** What happened inside one task's attempts, keyed by task id. */
const events = new PerTest<string[]>(() => []);
const log = (entry: string) => events.get(currentTask().id).push(entry);

function* syncResource() {
  const id = currentTask().id;
  events.get(id).push("sync:setup");
  yield "sync-value";
  events.get(id).push("sync:teardown");
}
async function* asyncResource() {
  const id = currentTask().id;
  events.get(id).push("async:setup");
  await sleep(1);
  yield "async-value";
  await sleep(1);
  events.get(id).push("async:teardown");
}

/** Counts its resolutions per task id and returns a fresh object each time. */
const resolutions = new PerTest(() => ({ count: 0 }));
function counted() {
  resolutions.get(currentTask().id).count++;
  return { made: randomUUID() };
}
async function usesCounted() {
  return (await use(counted)).made;
}

async function circularA(): Promise<unknown> {
  return use(circularB);
}
async function circularB(): Promise<unknown> {
  return use(circularA);
}

const readSettings = task({ name: "dependencies.readSettings" }, async () => use(settings));
const readRemote = task({ name: "dependencies.readRemote" }, async () => use(remoteSettings));
const readUrl = task({ name: "dependencies.readUrl" }, async () => use(databaseUrl));
const withArgs = task(
  { name: "dependencies.withArgs", args: numberAndLabelArgs },
  async (n, label) => ({ n, label, env: (await use(settings)).env }),
);
const withResources = task({ name: "dependencies.withResources" }, async () => {
  const a = await use(syncResource);
  const b = await use(asyncResource);
  log(`task:${a}+${b}`);
  return [a, b];
});
const sharedWithin = task(
  { name: "dependencies.sharedWithin", retry: 1, retryDelay: 0 },
  async () => {
    const first = await use(counted);
    const second = await use(counted);
    const nested = await usesCounted();
    if (currentTask().attempt === 1) throw new Error("fail the first attempt");
    return first === second && first.made === nested;
  },
);
const circular = task({ name: "dependencies.circular" }, async () => use(circularA));
const whoAmI = task({ name: "dependencies.whoAmI" }, (x: number, y: number) => {
  const running = currentTask();
  return {
    id: running.id,
    taskId: running.task.id,
    queue: running.queueName,
    aborted: running.signal.aborted,
    sum: x + y,
  };
});
const attemptsSeen = new PerTest<{ attempt: number; retryCount: number }[]>(() => []);
const whichAttempt = task(
  { name: "dependencies.whichAttempt", retry: 2, retryDelay: 0 },
  (token: string) => {
    const running = currentTask();
    attemptsSeen.get(token).push({ attempt: running.attempt, retryCount: running.task.retryCount });
    if (running.attempt < 3) throw new Error(`attempt ${running.attempt} fails`);
    return running.attempt;
  },
);

export function dependenciesCases(h: ContractHarness): void {
  describe("dependencies", () => {
    it("DI-1 / DI-2 sync and async dependencies are resolved when the task runs", async () => {
      const queue = h.queue();
      const a = readSettings();
      const b = readRemote();
      expect(a.args).toEqual([]);
      await queue.add([a, b]);
      await h.worker(queue).work({ oneshot: true });
      const [sa, sb] = await queue.getTask([a, b]);
      expect(sa?.result).toEqual({ debug: true, env: "test" });
      expect(sb?.result).toEqual({ debug: false, env: "production" });
    });

    it("DI-3 dependencies may use other dependencies", async () => {
      const queue = h.queue();
      const t = readUrl();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe("postgres://db/test");
    });

    it("DI-4 dependencies are not arguments: never stored, and they combine with schema-typed args", async () => {
      const queue = h.queue();
      const t = withArgs("5", "five");
      expect(t.args).toEqual([5, "five"]);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = (await queue.getTask(t))!;
      expect(done.args).toEqual([5, "five"]);
      expect(done.result).toEqual({ n: 5, label: "five", env: "test" });
    });

    it("DI-6 (decided) generator dependencies yield their value; teardown runs after the task, newest first", async () => {
      const queue = h.queue();
      const t = withResources();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toEqual(["sync-value", "async-value"]);
      expect(events.get(t.id)).toEqual([
        "sync:setup",
        "async:setup",
        "task:sync-value+async-value",
        "async:teardown",
        "sync:teardown",
      ]);
    });

    it("DI-7 (decided) a dependency is resolved once per attempt and shared within it", async () => {
      const queue = h.queue();
      const t = sharedWithin();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = (await queue.getTask(t))!;
      expect([done.status, done.retryCount, done.result]).toEqual(["completed", 1, true]);
      // Two attempts: one resolution each, however many times it was used.
      expect(resolutions.get(t.id).count).toBe(2);
    });

    it("DI-8 the Worker's dependencyOverrides replace a dependency, also when it is used by another one", async () => {
      const queue = h.queue();
      const direct = readSettings();
      const nested = readUrl();
      await queue.add([direct, nested]);
      const overrides = new Map<Dependency, Dependency>([[settings, fakeSettings]]);
      await h.worker(queue, { dependencyOverrides: overrides }).work({ oneshot: true });
      const [d, n] = await queue.getTask([direct, nested]);
      expect(d?.result).toEqual({ debug: true, env: "fake" });
      expect(n?.result).toBe("postgres://db/fake");
    });

    it("DI-9 / DI-10 currentTask() gives the running task: its id, its queue and an unfired signal", async () => {
      const queue = h.queue();
      const t = whoAmI(22, 33);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toEqual({
        id: t.id,
        taskId: t.id,
        queue: queue.name,
        aborted: false,
        sum: 55,
      });
    });

    it("DI-11 currentTask() reflects the attempt: attempt = retryCount + 1", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = whichAttempt(token);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = (await queue.getTask(t))!;
      expect([done.status, done.result, done.retryCount]).toEqual(["completed", 3, 2]);
      expect(attemptsSeen.get(token)).toEqual([
        { attempt: 1, retryCount: 0 },
        { attempt: 2, retryCount: 1 },
        { attempt: 3, retryCount: 2 },
      ]);
    });

    it("a circular dependency fails the task with DependencyError", async () => {
      const queue = h.queue();
      const t = circular();
      const after = whoAmI(1, 1);
      await queue.add([t, after]);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, failed: 1 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.error?.type).toBe("DependencyError");
      expect(failed.error?.message).toMatch(/circular/);
    });

    it("use() and currentTask() outside a running task throw DependencyError", () => {
      expect(() => use(settings)).toThrow(DependencyError);
      expect(() => currentTask()).toThrow(DependencyError);
    });
  });
}
