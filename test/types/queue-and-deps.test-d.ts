/**
 * Type-level contract of the Queue read-backs and of `use()` / `currentTask()`.
 */
import {
  currentTask,
  type Dependency,
  type FinishedTaskStatus,
  overrideDependency,
  Queue,
  type RunningTask,
  type Task,
  task,
  use,
} from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expectTypeOf, test } from "vitest";

const add = task(function qtAdd(x: number, y: number) {
  return x + y;
});
const hello = task(async function qtHello(name: string) {
  return `hello ${name}`;
});

describe("Queue read-backs keep the task's result type", () => {
  const queue = new Queue("memory://");

  test("waitFor(task) → Promise<Task<R>>, finished", () => {
    expectTypeOf(queue.waitFor(add(1, 2))).toEqualTypeOf<
      Promise<Task<number, FinishedTaskStatus>>
    >();
    expectTypeOf(queue.waitFor(hello("a"), { timeout: 1 })).toEqualTypeOf<
      Promise<Task<string, FinishedTaskStatus>>
    >();
  });

  test("waitFor(id) → Promise<Task<unknown>>, finished; cancel → a cancelled task", () => {
    expectTypeOf(queue.waitFor("some-id")).toEqualTypeOf<
      Promise<Task<unknown, FinishedTaskStatus>>
    >();
    expectTypeOf(queue.cancel(add(1, 2))).toEqualTypeOf<Promise<Task<number, "cancelled">>>();
    expectTypeOf(queue.cancel("some-id")).toEqualTypeOf<Promise<Task<unknown, "cancelled">>>();
  });

  test("getTask(task) → Promise<Task<R> | null>", () => {
    expectTypeOf(queue.getTask(add(1, 2))).toEqualTypeOf<Promise<Task<number> | null>>();
    expectTypeOf(queue.getTask("id")).toEqualTypeOf<Promise<Task | null>>();
  });

  test("list forms return typed tuples", () => {
    const a = add(1, 2);
    const h = hello("x");
    expectTypeOf(queue.getTask([a, h])).toEqualTypeOf<
      Promise<[Task<number> | null, Task<string> | null]>
    >();
    expectTypeOf(queue.waitFor([a, h])).toEqualTypeOf<
      Promise<[Task<number, FinishedTaskStatus>, Task<string, FinishedTaskStatus>]>
    >();
    expectTypeOf(queue.getTask([a, "raw-id"])).toEqualTypeOf<
      Promise<[Task<number> | null, Task<unknown> | null]>
    >();
  });

  test("a union of tasks reads back as the union of their records", () => {
    type Done<R> = Task<R, FinishedTaskStatus>;
    const either = Math.random() > 0.5 ? add(1, 2) : hello("x");
    expectTypeOf(queue.waitFor(either)).toEqualTypeOf<Promise<Done<number> | Done<string>>>();
    expectTypeOf(queue.getTask(either)).toEqualTypeOf<
      Promise<Task<number> | Task<string> | null>
    >();
    expectTypeOf(queue.cancel(either)).toEqualTypeOf<
      Promise<Task<number, "cancelled"> | Task<string, "cancelled">>
    >();
    for (const t of [add(1, 2), hello("y")]) {
      expectTypeOf(queue.waitFor(t)).toEqualTypeOf<Promise<Done<number> | Done<string>>>();
    }
    expectTypeOf(queue.cancel(add(1, 2))).toEqualTypeOf<Promise<Task<number, "cancelled">>>();
    expectTypeOf(queue.cancel("id")).toEqualTypeOf<Promise<Task<unknown, "cancelled">>>();
    const ref: string | Task<number> = Math.random() > 0.5 ? "id" : add(1, 2);
    expectTypeOf(queue.cancel(ref)).toEqualTypeOf<Promise<Task<unknown, "cancelled">>>();
  });

  test("add returns boolean / boolean[]", () => {
    expectTypeOf(queue.add(add(1, 2))).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(queue.add([add(1, 2), hello("x")])).toEqualTypeOf<Promise<boolean[]>>();
    // @ts-expect-error the factory itself is not a Task
    queue.add(add);
  });

  test("TestQueue processes into Task records", () => {
    const tq = new TestQueue();
    expectTypeOf(tq.processNext()).toEqualTypeOf<Promise<Task | null>>();
    expectTypeOf(tq.processAll()).toEqualTypeOf<Promise<Task[]>>();
    expectTypeOf(tq.processScheduled).parameters.toEqualTypeOf<[cutoff?: Date | number]>();
    expectTypeOf(tq.waitFor(hello("x"))).toEqualTypeOf<Promise<Task<string, FinishedTaskStatus>>>();
  });
});

describe("use(dep) infers the dependency value", () => {
  test("sync dependency", () => {
    const config = () => ({ debug: true, env: "test" });
    expectTypeOf(use(config)).toEqualTypeOf<Promise<{ debug: boolean; env: string }>>();
  });

  test("async dependency", () => {
    const config = async () => ({ debug: false });
    expectTypeOf(use(config)).toEqualTypeOf<Promise<{ debug: boolean }>>();
  });

  test("generator dependency", () => {
    function* connection() {
      yield { query: (sql: string) => sql.length };
    }
    expectTypeOf(use(connection)).toEqualTypeOf<Promise<{ query: (sql: string) => number }>>();
  });

  test("async generator dependency", () => {
    async function* database() {
      yield 42 as const;
    }
    expectTypeOf(use(database)).toEqualTypeOf<Promise<42>>();
  });

  test("dependency declared with the Dependency type", () => {
    const dep: Dependency<string> = () => "x";
    expectTypeOf(use(dep)).toEqualTypeOf<Promise<string>>();
  });

  test("a dependency takes no parameters", () => {
    // @ts-expect-error dependencies are called with no arguments
    use((x: number) => x);
  });

  test("currentTask() is a RunningTask", () => {
    expectTypeOf(currentTask).returns.toEqualTypeOf<RunningTask>();
    expectTypeOf<RunningTask["attempt"]>().toEqualTypeOf<number>();
    expectTypeOf<RunningTask["signal"]>().toEqualTypeOf<AbortSignal>();
  });

  test("overrides of dependencies of different types fit one typed map, as the README shows", () => {
    async function* database() {
      yield { insert: async (_row: object) => "id" };
    }
    const settings = () => ({ dsn: "postgres://real" });
    const overrides = new Map<Dependency, Dependency>([
      [
        database,
        async function* () {
          yield { insert: async () => "row-1" };
        },
      ],
      [settings, () => ({ dsn: "postgres://fake" })],
    ]);
    void new TestQueue({ dependencyOverrides: overrides });
  });

  test("overrideDependency checks that the replacement gives what the dependency gives", () => {
    async function* database() {
      yield { insert: async (_row: object) => "id" };
    }
    const settings = () => ({ dsn: "postgres://real" });
    const overrides = new Map([
      overrideDependency(database, async function* () {
        yield { insert: async () => "row-1" };
      }),
      overrideDependency(settings, async () => ({ dsn: "postgres://fake" })),
    ]);
    void new TestQueue({ dependencyOverrides: overrides });
    overrideDependency(
      database,
      // @ts-expect-error a fake of another shape no longer fits the real dependency
      async function* () {
        yield 42;
      },
    );
    // @ts-expect-error a misspelt member is caught too
    overrideDependency(settings, () => ({ dns: "postgres://fake" }));
  });

  test("use() inside a task keeps the task's result type", () => {
    const settings = async () => ({ env: "prod" });
    const envTask = task(async function qtEnv() {
      return (await use(settings)).env;
    });
    expectTypeOf(envTask()).toEqualTypeOf<Task<string>>();
  });
});
