/**
 * Dependency injection (DI-*): `use(dep)` and `currentTask()` — outside a task
 * they are a DependencyError; inside they resolve sync, async, nested and
 * generator dependencies once per attempt, with overrides and teardown.
 */
import { currentTask, DependencyError, type Task, task, use } from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";
import { errorOf } from "../support/error-of.js";

async function runOne<R>(factoryCall: () => Task<R>, queue = new TestQueue()): Promise<Task<R>> {
  await queue.add(factoryCall());
  const done = await queue.processNext();
  if (!done) throw new Error("nothing was processed");
  return done as Task<R>;
}

describe("outside a running task", () => {
  test("use() is a DependencyError naming the dependency", () => {
    function settings() {
      return { env: "test" };
    }
    const error = errorOf(() => use(settings));
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toBe("use(settings) was called outside a running task");
  });

  test("use() of an anonymous dependency says so", () => {
    const error = errorOf(() =>
      use(
        (
          () => () =>
            1
        )(),
      ),
    );
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toContain("use(anonymous dependency)");
  });

  test("currentTask() is a DependencyError", () => {
    const error = errorOf(() => currentTask());
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toBe("currentTask() was called outside a running task");
  });

  test("after a task has run, use() outside it is still refused", async () => {
    const config = () => 1;
    const inside = task({ name: "di-inside-then-out" }, async () => use(config));
    expect((await runOne(() => inside())).result).toBe(1);
    expect(() => use(config)).toThrow(DependencyError);
  });
});

describe("inside a running task", () => {
  test("DI-1 a sync dependency provides its value", async () => {
    const config = () => ({ debug: true, env: "test" });
    const read = task({ name: "di-sync" }, async () => use(config));
    expect((await runOne(() => read())).result).toEqual({ debug: true, env: "test" });
  });

  test("DI-2 an async dependency is awaited", async () => {
    const config = async () => ({ debug: false, env: "production" });
    const read = task({ name: "di-async" }, async () => use(config));
    expect((await runOne(() => read())).result).toEqual({ debug: false, env: "production" });
  });

  test("DI-3 nested dependencies resolve recursively", async () => {
    const config = async () => ({ prefix: "db://" });
    const database = async () => `${(await use(config)).prefix}main`;
    const read = task({ name: "di-nested" }, async () => use(database));
    expect((await runOne(() => read())).result).toBe("db://main");
  });

  test("DI-4 dependencies combine with ordinary args and are not stored", async () => {
    const factor = () => 10;
    const scale = task({ name: "di-with-args" }, async (x: number) => x * (await use(factor)));
    const t = scale(4);
    expect(t.args).toEqual([4]);
    expect((await runOne(() => t)).result).toBe(40);
  });

  test("DI-6 generator dependencies inject their first value and tear down after the task", async () => {
    const log: string[] = [];
    function* syncResource() {
      log.push("sync:open");
      yield "sync-value";
      log.push("sync:close");
    }
    async function* asyncResource() {
      log.push("async:open");
      yield "async-value";
      log.push("async:close");
    }
    const useBoth = task({ name: "di-generators" }, async () => {
      const a = await use(syncResource);
      const b = await use(asyncResource);
      log.push("task");
      return [a, b];
    });
    const done = await runOne(() => useBoth());
    expect(done.result).toEqual(["sync-value", "async-value"]);
    // Teardown runs after the task, newest first.
    expect(log).toEqual(["sync:open", "async:open", "task", "async:close", "sync:close"]);
  });

  test("teardown also runs when the task fails", async () => {
    const log: string[] = [];
    function* resource() {
      yield 1;
      log.push("closed");
    }
    const failing = task({ name: "di-teardown-on-failure" }, async () => {
      await use(resource);
      throw new Error("task failed");
    });
    const done = await runOne(() => failing());
    expect(done.status).toBe("failed");
    expect(log).toEqual(["closed"]);
  });

  test("DI-7 a dependency is resolved once per attempt and shared within it", async () => {
    let calls = 0;
    const counter = async () => ++calls;
    const viaNested = async () => use(counter);
    const twice = task({ name: "di-once" }, async () => [
      await use(counter),
      await use(counter),
      await use(viaNested),
    ]);
    const queue = new TestQueue();
    expect((await runOne(() => twice(), queue)).result).toEqual([1, 1, 1]);
    // A new attempt resolves it again.
    expect((await runOne(() => twice(), queue)).result).toEqual([2, 2, 2]);
    expect(calls).toBe(2);
  });

  test("DI-8 dependencyOverrides replace a dependency, also a nested one", async () => {
    const realDb = () => "real-db";
    const repo = async () => `repo(${await use(realDb)})`;
    const read = task({ name: "di-override" }, async () => [await use(realDb), await use(repo)]);
    const queue = new TestQueue({ dependencyOverrides: new Map([[realDb, () => "fake-db"]]) });
    expect((await runOne(() => read(), queue)).result).toEqual(["fake-db", "repo(fake-db)"]);
    expect((await runOne(() => read())).result).toEqual(["real-db", "repo(real-db)"]);
  });

  test("a circular dependency fails the task with a DependencyError showing the chain", async () => {
    const a: () => Promise<unknown> = async () => use(b);
    const b: () => Promise<unknown> = async () => use(a);
    const loop = task({ name: "di-circular" }, async () => use(a));
    const done = await runOne(() => loop());
    expect(done.status).toBe("failed");
    expect(done.error?.type).toBe("DependencyError");
    expect(done.error?.message).toBe("circular dependency: a → b → a");
  });

  test("a generator that never yields fails the task with a DependencyError", async () => {
    function* empty() {}
    const broken = task({ name: "di-empty-generator" }, async () => use(empty));
    const done = await runOne(() => broken());
    expect(done.status).toBe("failed");
    expect(done.error?.type).toBe("DependencyError");
    expect(done.error?.message).toBe(
      "generator dependency empty finished without yielding a value",
    );
  });

  test("a dependency that throws fails the task with its error", async () => {
    const unavailable = () => {
      throw new Error("service down");
    };
    const needy = task({ name: "di-throwing" }, async () => use(unavailable));
    const done = await runOne(() => needy());
    expect(done.status).toBe("failed");
    expect(done.error?.message).toBe("service down");
  });
});

describe("currentTask()", () => {
  test("DI-9 the running task knows its id, attempt and queue", async () => {
    const whoAmI = task({ name: "di-current" }, (x: number) => {
      const running = currentTask();
      return {
        id: running.id,
        taskId: running.task.id,
        attempt: running.attempt,
        queue: running.queueName,
        status: running.task.status,
        aborted: running.signal.aborted,
        x,
      };
    });
    const t = whoAmI(22);
    const done = await runOne(() => t, new TestQueue({ name: "di-queue" }));
    expect(done.result).toEqual({
      id: t.id,
      taskId: t.id,
      attempt: 1,
      queue: "di-queue",
      status: "processing",
      aborted: false,
      x: 22,
    });
  });

  test("DI-11 the attempt number reflects retries", async () => {
    const attempts: number[] = [];
    const flaky = task({ name: "di-attempts", retry: 1, retryDelay: 0 }, () => {
      const { attempt } = currentTask();
      attempts.push(attempt);
      if (attempt === 1) throw new Error("first attempt fails");
      return attempt;
    });
    const queue = new TestQueue();
    await queue.add(flaky());
    const records = await queue.processAll();
    expect(records.map((r) => r.status)).toEqual(["retrying", "completed"]);
    expect(attempts).toEqual([1, 2]);
    expect(records[1]?.result).toBe(2);
  });

  test("currentTask() works inside a dependency", async () => {
    const taskIdDep = () => currentTask().id;
    const read = task({ name: "di-current-in-dep" }, async () => use(taskIdDep));
    const t = read();
    expect((await runOne(() => t)).result).toBe(t.id);
  });
});
