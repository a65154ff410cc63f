/**
 * The memory backend with instant processing (`new Queue("memory://")`): a
 * task runs inside `add`, chained children run at once (CH-8), task middleware
 * applies (MW-13), `dependencyOverrides` apply, retries and scheduled tasks run
 * when due.
 */
import {
  all,
  currentTask,
  MemoryBackend,
  type Middleware,
  Queue,
  step,
  type Task,
  task,
  use,
  workflow,
} from "sheppy";
import { afterEach, describe, expect, test } from "vitest";

const queues: Queue[] = [];

function memoryQueue(backend: MemoryBackend | string = "memory://"): Queue {
  const queue = new Queue(backend, { name: "instant" });
  queues.push(queue);
  return queue;
}

afterEach(async () => {
  // Stop instant-processing timers (scheduled tasks, delayed retries).
  await Promise.all(queues.splice(0).map((q) => q.close()));
});

const add = task(function instantAdd(x: number, y: number) {
  return x + y;
});

describe("add runs the task before returning", () => {
  test("getTask right after add shows the completed record", async () => {
    const queue = memoryQueue();
    const t = add(1, 2);
    expect(await queue.add(t)).toBe(true);
    const stored = await queue.getTask(t);
    expect(stored?.status).toBe("completed");
    expect(stored?.result).toBe(3);
    expect(stored?.finishedAt).toBeInstanceOf(Date);
    expect(await queue.size()).toBe(0);
  });

  test("waitFor returns at once with a zero timeout", async () => {
    const queue = memoryQueue();
    const t = add(2, 2);
    await queue.add(t);
    const done = await queue.waitFor(t, { timeout: 0 });
    expect(done.result).toBe(4);
  });

  test("a batch add runs every task", async () => {
    const queue = memoryQueue();
    const tasks = [add(1, 1), add(2, 2), add(3, 3)];
    expect(await queue.add(tasks)).toEqual([true, true, true]);
    const stored = await queue.getTask(tasks);
    expect(stored.map((t) => t?.result)).toEqual([2, 4, 6]);
  });

  test("a failing task does not make add throw; its record is failed", async () => {
    const boom = task(function instantBoom() {
      throw new TypeError("instant failure");
    });
    const queue = memoryQueue();
    const t = boom();
    expect(await queue.add(t)).toBe(true);
    const stored = await queue.getTask(t);
    expect(stored?.status).toBe("failed");
    expect(stored?.error?.toString()).toBe("TypeError: instant failure");
  });

  test("adding the same task again returns false and does not run it again", async () => {
    let runs = 0;
    const counted = task({ name: "instant-counted" }, () => ++runs);
    const queue = memoryQueue();
    const t = counted();
    expect(await queue.add(t)).toBe(true);
    expect(await queue.add(t)).toBe(false);
    expect(runs).toBe(1);
  });

  test("T-19 the caller's task object is not changed", async () => {
    const queue = memoryQueue();
    const t = add(1, 2);
    await queue.add(t);
    expect(t.status).toBe("new");
    expect(t.result).toBeNull();
  });

  test("with ?instantProcessing=false nothing runs on add", async () => {
    const queue = memoryQueue("memory://?instantProcessing=false");
    const t = add(1, 2);
    await queue.add(t);
    expect((await queue.getTask(t))?.status).toBe("pending");
    expect(await queue.size()).toBe(1);
  });
});

describe("CH-8 chained children run at once", () => {
  test("a child returned by a task is completed when add returns (5 → 15)", async () => {
    const triple = task(function instantTriple(x: number) {
      return x * 3;
    });
    const parent = task(function instantParent(x: number) {
      return triple(x);
    });
    const queue = memoryQueue();
    const p = parent(5);
    await queue.add(p);
    const storedParent = await queue.getTask(p);
    expect(storedParent?.status).toBe("completed");
    const child = storedParent?.result as Task<number>;
    const storedChild = await queue.getTask(child);
    expect(storedChild?.status).toBe("completed");
    expect(storedChild?.result).toBe(15);
  });

  test("a list of children all run, recursively", async () => {
    const leaf = task(function instantLeaf(x: number) {
      return x;
    });
    const branch = task(function instantBranch(x: number) {
      return leaf(x + 1);
    });
    const root = task(function instantRoot() {
      return [branch(7), branch(8)];
    });
    const queue = memoryQueue();
    const r = root();
    await queue.add(r);
    const branches = (await queue.getTask(r))?.result as Task[];
    expect(branches).toHaveLength(2);
    const storedBranches = await queue.getTask(branches);
    const leaves = storedBranches.map((b) => b?.result as Task<number>);
    const storedLeaves = await queue.getTask(leaves);
    expect(new Set(storedLeaves.map((l) => l?.result))).toEqual(new Set([8, 9]));
    expect(storedLeaves.every((l) => l?.status === "completed")).toBe(true);
  });
});

describe("MW-13 task-level middleware applies", () => {
  const noop: Middleware = async (_ctx, next) => {
    await next();
  };
  const firstArgTo5: Middleware = async (ctx, next) => {
    ctx.args = [5, ...ctx.args.slice(1)];
    await next();
  };
  const plus =
    (n: number): Middleware =>
    async (ctx, next) => {
      await next();
      ctx.result = (ctx.result as number) + n;
    };

  test("3 / 7 / 105003 / 105007", async () => {
    const sum = async (x: number, y: number) => x + y;
    const tasks = [
      task({ name: "instant-mw-noop", middleware: [noop] }, sum)(1, 2),
      task({ name: "instant-mw-arg", middleware: [firstArgTo5] }, sum)(1, 2),
      task({ name: "instant-mw-result", middleware: [plus(100000), plus(5000)] }, sum)(1, 2),
      task(
        { name: "instant-mw-all", middleware: [noop, firstArgTo5, plus(100000), plus(5000)] },
        sum,
      )(1, 2),
    ];
    const queue = memoryQueue();
    await queue.add(tasks);
    const stored = await queue.getTask(tasks);
    expect(stored.map((t) => t?.result)).toEqual([3, 7, 105003, 105007]);
  });

  test("backend-level middleware runs outside task-level middleware", async () => {
    const log: string[] = [];
    const tag =
      (name: string): Middleware =>
      async (_ctx, next) => {
        log.push(`${name}>`);
        await next();
        log.push(`<${name}`);
      };
    const traced = task({ name: "instant-traced", middleware: [tag("task")] }, () => "done");
    const queue = memoryQueue(new MemoryBackend({ middleware: [tag("backend")] }));
    await queue.add(traced());
    expect(log).toEqual(["backend>", "task>", "<task", "<backend"]);
  });
});

describe("dependency overrides", () => {
  test("new MemoryBackend({ dependencyOverrides }) replaces the dependency", async () => {
    const realService = () => "real";
    const read = task({ name: "instant-override" }, async () => use(realService));
    const overridden = memoryQueue(
      new MemoryBackend({ dependencyOverrides: new Map([[realService, () => "fake"]]) }),
    );
    const plain = new Queue("memory://", { name: "instant-plain" });
    queues.push(plain);
    const a = read();
    const b = read();
    await overridden.add(a);
    await plain.add(b);
    expect((await overridden.getTask(a))?.result).toBe("fake");
    expect((await plain.getTask(b))?.result).toBe("real");
  });
});

describe("retries and scheduled tasks run when due", () => {
  test("a retry with retryDelay 0 completes", async () => {
    const flaky = task({ name: "instant-flaky", retry: 1, retryDelay: 0 }, () => {
      if (currentTask().attempt === 1) throw new Error("transient error");
      return "ok";
    });
    const queue = memoryQueue();
    const t = flaky();
    await queue.add(t);
    const done = await queue.waitFor(t, { timeout: 5 });
    expect(done.status).toBe("completed");
    expect(done.result).toBe("ok");
    expect(done.retryCount).toBe(1);
    expect(done.error).toBeNull();
  });

  test("a task that keeps failing ends failed after its retries", async () => {
    const broken = task({ name: "instant-broken", retry: 2, retryDelay: 0 }, () => {
      throw new Error("always");
    });
    const queue = memoryQueue();
    const t = broken();
    await queue.add(t);
    const done = await queue.waitFor(t, { timeout: 5 });
    expect(done.status).toBe("failed");
    expect(done.retryCount).toBe(2);
    expect(done.error?.message).toBe("always");
  });

  test("S-12 (decided) a scheduled task waits for its time, then runs", async () => {
    const queue = memoryQueue();
    const t = add(20, 22);
    expect(await queue.schedule(t, 0.1)).toBe(true);
    const before = await queue.getTask(t);
    expect(before?.status).toBe("scheduled");
    expect(await queue.size()).toBe(0);
    const done = await queue.waitFor(t, { timeout: 5 });
    expect(done.status).toBe("completed");
    expect(done.result).toBe(42);
    expect(done.scheduledAt).toEqual(before?.scheduledAt);
    expect(await queue.getScheduled()).toEqual([]);
  });
});

describe("a list of entries runs as its tasks would", () => {
  test("an entry for now runs inside add; an entry with a time, when it is due", async () => {
    const queue = memoryQueue();
    const later = add(40, 2);
    const results = await queue.add([
      { task: add(1, 2), id: "sum:now" },
      { task: later, at: 0.1, id: "sum:later" },
    ]);
    expect(results).toEqual([
      { outcome: "added", id: "sum:now" },
      { outcome: "added", id: "sum:later" },
    ]);
    const now = await queue.getTask("sum:now");
    expect([now?.status, now?.result]).toEqual(["completed", 3]);
    expect((await queue.getTask("sum:later"))?.status).toBe("scheduled");
    const done = await queue.waitFor("sum:later", { timeout: 5 });
    expect([done.status, done.result]).toEqual(["completed", 42]);
  });
});

const twice = workflow({ name: "instant.twice" }, function* (x: number) {
  const [a, b] = yield* all([add(x, 1), add(x, 2)]);
  const c = yield* step(add(a.result!, b.result!));
  return c.result;
});

describe("workflows on memory://", () => {
  test("addWorkflow drives the workflow to its end before returning (WF-33)", async () => {
    const queue = memoryQueue();
    const done = await queue.addWorkflow(twice(10));
    expect([done.status, done.result]).toEqual(["completed", 23]);
    expect((await queue.getWorkflow(done.id))?.status).toBe("completed");
  });
});
