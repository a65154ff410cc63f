/**
 * Plain adds made in one turn of the event loop reach the backend in shared
 * calls (of at most the batch bound, each sent as it fills); each caller gets its own answer; a record the backend refuses in a
 * combined call fails only the caller that added it; transactions, dedupe
 * and big lists keep calls of their own.
 */
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend, Queue, task } from "../../src/index.js";
import { MAX_BATCH, MAX_COALESCED_ADD } from "../../src/queue/add-batcher.js";
import type { TaskData } from "../../src/task/task-record.js";

const echo = task({ name: "add-batcher.echo" }, (n: number) => n);

function spied() {
  const backend = new MemoryBackend({ instantProcessing: false });
  const add = vi.spyOn(backend, "add");
  const queue = new Queue(backend, { name: "batched" });
  return { backend, add, queue };
}

describe("coalesced adds", () => {
  it("concurrent adds share calls of at most the batch bound, every caller answered, in order", async () => {
    const { add, queue } = spied();
    await queue.connect();
    const tasks = Array.from({ length: 2 * MAX_BATCH + 1 }, (_, n) => echo(n));
    const answers = await Promise.all(tasks.map((t) => queue.add(t)));
    expect(answers).toEqual(tasks.map(() => true));
    expect(add.mock.calls.map(([, records]) => records.length)).toEqual([MAX_BATCH, MAX_BATCH, 1]);
    expect((await queue.getPending(200)).map((t) => t.id)).toEqual(tasks.map((t) => t.id));
  });

  it("concurrent loops of awaited adds share calls; the same id twice in one turn is stored once", async () => {
    const { add, queue } = spied();
    await queue.connect();
    const loops = Array.from({ length: 20 }, async (_, loop) => {
      for (let i = 0; i < 5; i++) expect(await queue.add(echo(loop * 5 + i))).toBe(true);
    });
    await Promise.all(loops);
    expect(await queue.size()).toBe(100);
    expect(add.mock.calls.length).toBeLessThanOrEqual(10);
    const t = echo(1000);
    expect(await Promise.all([queue.add(t), queue.add(t), queue.schedule(echo(1001), 60)])).toEqual(
      [true, false, true],
    );
  });

  it("a record the backend refuses in a combined call fails only its caller", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "batched" });
    await queue.connect();
    const poisoned = echo(-1);
    const real = backend.add.bind(backend);
    vi.spyOn(backend, "add").mockImplementation(
      async (q, records: readonly TaskData[], ...rest) => {
        if (records.some((r) => r.id === poisoned.id)) throw new Error("refused");
        return real(q, records, ...rest);
      },
    );
    const [ok, bad, ok2] = await Promise.allSettled([
      queue.add(echo(1)),
      queue.add(poisoned),
      queue.add([echo(2), echo(3)]),
    ]);
    expect(ok).toEqual({ status: "fulfilled", value: true });
    expect(bad).toMatchObject({ status: "rejected", reason: new Error("refused") });
    expect(ok2).toEqual({ status: "fulfilled", value: [true, true] });
    expect(await queue.size()).toBe(3);
  });

  it("a list bigger than the coalescing bound and dedupe adds go in calls of their own", async () => {
    const { add, queue } = spied();
    await queue.connect();
    const big = Array.from({ length: MAX_COALESCED_ADD + 1 }, (_, n) => echo(n));
    await Promise.all([queue.add(big), queue.add(echo(-5))]);
    expect(add).toHaveBeenCalledTimes(2);
    expect(await queue.add(echo(-6), { dedupe: { key: "k" } })).toMatchObject({ outcome: "added" });
    expect(add).toHaveBeenCalledTimes(2);
  });
});
