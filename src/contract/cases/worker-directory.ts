/**
 * Which workers serve a queue: the backend's worker directory (announce,
 * list, lapse, withdraw) and a running worker keeping itself listed, as
 * `queue.workers()` shows it.
 */

import fc from "fast-check";
import { describe, expect } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { task } from "../../index.js";
import { ANNOUNCED_TASK_NAME_CHARS, definesTask } from "../../queue/live-worker.js";
import type { ContractHarness } from "../harness.js";
import { gate, PerTest, sleep, until } from "../support/until.js";

const HOUR = 3_600_000;

/** Tasks that hold until their test opens the gate. */
const gates = new PerTest(() => gate());
const held = task({ name: "worker-directory.held" }, async (token: string) => {
  await gates.get(token).opened;
  return token;
});

export function workerDirectoryCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
  });
  const lists = h.itIfListsWorkers("the backend keeps no worker directory (optional)");

  describe("backend: which workers serve a queue", () => {
    lists(
      "announceWorker lists a worker on that queue alone, with its body as given, seen just now; announcing again replaces the body; withdrawWorker forgets it",
      async () => {
        const { backend, q } = await setup();
        const other = h.queue().name;
        await backend.announceWorker!(q, "w1", '{"n":1}', HOUR);
        await backend.announceWorker!(q, "w2", '{"n":2}', HOUR);
        const listed = await backend.listWorkers!(q);
        expect(listed.map((w) => [w.id, w.body]).sort()).toEqual([
          ["w1", '{"n":1}'],
          ["w2", '{"n":2}'],
        ]);
        for (const w of listed) {
          expect(w.seenAgoMs).toBeGreaterThanOrEqual(0);
          expect(w.seenAgoMs).toBeLessThan(5_000);
        }
        expect(await backend.listWorkers!(other)).toEqual([]);
        // The queue is found among those workers serve, before it holds anything.
        expect(await backend.listWorkerQueues!()).toContain(q);
        expect(await backend.listWorkerQueues!()).not.toContain(other);
        await backend.announceWorker!(q, "w1", '{"n":3}', HOUR);
        expect((await backend.listWorkers!(q)).map((w) => [w.id, w.body]).sort()).toEqual([
          ["w1", '{"n":3}'],
          ["w2", '{"n":2}'],
        ]);
        await backend.withdrawWorker!(q, "w1");
        await backend.withdrawWorker!(q, "never-announced");
        await backend.withdrawWorker!(other, "w2");
        expect((await backend.listWorkers!(q)).map((w) => w.id)).toEqual(["w2"]);
        const served = await backend.listWorkerQueues!();
        expect(served).toEqual([...served].sort());
      },
    );

    lists(
      "an announcement lapses once its ttl has passed unless made again, while the queue's other workers stay listed; how long ago each was seen grows",
      async () => {
        const { backend, q } = await setup();
        // A renewal holds for a second past the list below is read: room for a loaded machine
        // (behind a pooler each call is a few round trips) to stall between the two.
        await backend.announceWorker!(q, "short", "{}", 1000);
        await backend.announceWorker!(q, "renewed", "{}", 1000);
        await backend.announceWorker!(q, "long", "{}", HOUR);
        await sleep(600);
        await backend.announceWorker!(q, "renewed", "{}", 1600);
        await sleep(600);
        const listed = await backend.listWorkers!(q);
        expect(listed.map((w) => w.id).sort()).toEqual(["long", "renewed"]);
        const long = listed.find((w) => w.id === "long")!;
        const renewed = listed.find((w) => w.id === "renewed")!;
        expect(long.seenAgoMs).toBeGreaterThanOrEqual(300);
        expect(renewed.seenAgoMs).toBeLessThan(long.seenAgoMs);
        // A lapsed worker that announces again is listed again.
        await backend.announceWorker!(q, "short", "{}", HOUR);
        expect((await backend.listWorkers!(q)).map((w) => w.id).sort()).toEqual([
          "long",
          "renewed",
          "short",
        ]);
        // A queue whose only announcement lapsed is not among those served for long.
        const lapsing = h.queue().name;
        await backend.announceWorker!(lapsing, "brief", "{}", 100);
        expect(await backend.listWorkerQueues!()).toContain(lapsing);
        await until(async () => !(await backend.listWorkerQueues!()).includes(lapsing), {
          timeoutMs: 3_000,
          what: "the lapsed queue to leave the list",
        });
      },
    );

    lists(
      "bodies of any JSON text and ids of any text come back exactly as announced",
      async () => {
        const { backend, q } = await setup();
        await fc.assert(
          fc.asyncProperty(
            fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
            fc.jsonValue(),
            async (id, value) => {
              const body = JSON.stringify(value) ?? "null";
              await backend.announceWorker!(q, id, body, HOUR);
              const found = (await backend.listWorkers!(q)).find((w) => w.id === id);
              expect(found?.body).toBe(body);
              await backend.withdrawWorker!(q, id);
              expect((await backend.listWorkers!(q)).some((w) => w.id === id)).toBe(false);
            },
          ),
          { numRuns: 40 },
        );
      },
      30_000,
    );

    h.itIf("crossProcess", "needs a second process")(
      "a worker announced through one process is listed by another and withdrawn through it",
      async () => {
        const queue = h.queue();
        const backend = await queue.connect();
        const other = await h.sibling(queue).connect();
        await backend.announceWorker!(queue.name, "w", '{"from":"one"}', HOUR);
        if (typeof other.listWorkers !== "function") return;
        expect((await other.listWorkers(queue.name)).map((w) => w.body)).toEqual([
          '{"from":"one"}',
        ]);
        await other.withdrawWorker!(queue.name, "w");
        expect(await backend.listWorkers!(queue.name)).toEqual([]);
      },
    );
  });

  describe("queue.workers(): running workers keep themselves listed", () => {
    lists(
      "a running worker is listed on each of its queues with its host, process, concurrency, roles and the tasks it holds there; once it stops it is not",
      async () => {
        const first = h.queue();
        const second = h.sibling(h.queue());
        const token = `t-${first.name}`;
        // A heartbeat far longer than the test: every announcement after the first comes from a change.
        const worker = h.worker([first, second], {
          concurrency: 3,
          heartbeatInterval: 30,
          leaseTimeout: 60,
          cronManager: false,
        });
        const running = worker.work();
        // Listed once started, before it holds anything.
        const [started] = await until(async () => {
          const workers = (await first.workers()) ?? [];
          return workers.length === 1 ? workers : null;
        });
        expect(started).toMatchObject({ state: "running", holding: 0, taskIds: [] });
        const task1 = held(token);
        // Its start, not the task's stored status: a claim is stored before the worker holds it.
        const startedTask = new Promise((resolve) => worker.once("task:started", resolve));
        await first.add(task1);
        await startedTask;
        // Paused, it says so at once (not at its next heartbeat), with what it holds then.
        await worker.pause();
        const [seen] = await until(
          async () => {
            const workers = (await first.workers()) ?? [];
            return workers[0]?.state === "paused" ? workers : null;
          },
          { timeoutMs: 2_000, what: "the worker saying it is paused" },
        );
        expect(seen).toMatchObject({
          pid: process.pid,
          concurrency: 3,
          state: "paused",
          holding: 1,
          holdingAll: 1,
          taskIds: [task1.id],
          processing: true,
          scheduler: true,
          cronManager: false,
          queues: [first.name, second.name],
          everyMs: 30_000,
        });
        expect(seen!.host.length).toBeGreaterThan(0);
        expect(Date.parse(seen!.startedAt)).toBeLessThanOrEqual(Date.now());
        expect(seen!.version).toMatch(/^\d+\.\d+\.\d+/);
        // The tasks this process defines (hundreds, in this suite): the first of them named, all counted.
        expect(seen!.taskCount).toBeGreaterThan(0);
        expect(seen!.tasks.length).toBeGreaterThan(0);
        expect(seen!.tasks.length).toBeLessThanOrEqual(seen!.taskCount);
        expect(seen!.tasks.join("").length).toBeLessThanOrEqual(ANNOUNCED_TASK_NAME_CHARS);
        expect(definesTask(seen!, held.taskName)).not.toBe(false);
        // The same worker, on its other queue, holding nothing there (its announcement there of the
        // same pause: the queues are announced one after the other).
        const elsewhere = await until(
          async () => {
            const other = (await second.workers())?.[0];
            return other?.state === "paused" ? other : null;
          },
          { timeoutMs: 2_000, what: "the worker saying it is paused on its other queue" },
        );
        expect(elsewhere).toMatchObject({ id: seen!.id, holding: 0, holdingAll: 1, taskIds: [] });
        worker.resume();
        await until(async () => (await first.workers())?.[0]?.state === "running", {
          timeoutMs: 2_000,
          what: "the worker saying it runs again",
        });
        gates.get(token).open();
        expect(await first.waitFor(task1, { timeout: 5 })).toMatchObject({ status: "completed" });
        await worker.close();
        await running;
        expect(await first.workers()).toEqual([]);
        expect(await second.workers()).toEqual([]);
      },
      15_000,
    );

    lists(
      "an announcement that does not read as a worker's is left out of queue.workers(), not an error",
      async () => {
        const queue = h.queue();
        const backend = await queue.connect();
        await backend.announceWorker!(queue.name, "garbled", "not json {", HOUR);
        await backend.announceWorker!(queue.name, "empty", "{}", HOUR);
        await backend.announceWorker!(
          queue.name,
          "good",
          JSON.stringify({ host: "h", pid: 7, startedAt: "2026-01-01T00:00:00.000Z" }),
          HOUR,
        );
        const workers = await queue.workers();
        expect(workers?.map((w) => [w.id, w.host, w.pid])).toEqual([["good", "h", 7]]);
      },
    );
  });
}
