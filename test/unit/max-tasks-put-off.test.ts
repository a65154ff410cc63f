/**
 * A worker over two queues with `maxTasks`: a claim its task's rate limit
 * puts off is no task of the run. While its admission is being decided,
 * the run's last claim is not spent, so the other queue's loop goes on
 * waiting for work; a task added there afterwards still runs in the same
 * run, which then returns without sitting out a claim wait.
 */
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { afterEach, describe, expect, it } from "vitest";

const limited = task(
  { name: "max-tasks-put-off.limited", rateLimit: { maxRate: 1, ratePeriod: 60 } },
  (n: number) => n,
);
const plain = task({ name: "max-tasks-put-off.plain" }, (n: number) => n);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("maxTasks and a claim put off by its rate limit", () => {
  const queues: Queue[] = [];
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
  });

  it("the put-off claim comes back to the run: the other queue's task added later still runs", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const [limitedQueue, plainQueue] = [
      new Queue(backend, { name: "limited" }),
      new Queue(backend, { name: "plain" }),
    ];
    queues.push(limitedQueue, plainQueue);
    const first = limited(1);
    const second = limited(2);
    await limitedQueue.add([first, second]);
    const worker = new Worker([limitedQueue, plainQueue], { concurrency: 2, claimWait: 5 });
    const running = worker.work({ maxTasks: 2 });
    await limitedQueue.waitFor(first, { timeout: 10 });
    await expect.poll(async () => (await limitedQueue.getTask(second))?.status).toBe("scheduled");
    // Well after the put-off claim's admission: the run still has a claim for the other queue.
    await sleep(300);
    const later = plain(3);
    await plainQueue.add(later);
    expect((await plainQueue.waitFor(later, { timeout: 10 })).result).toBe(3);
    const lastDone = Date.now();
    expect(await running).toMatchObject({ processed: 2 });
    expect(Date.now() - lastDone, "last task done to work() returning").toBeLessThan(2500);
    expect((await limitedQueue.getTask(second))?.status).toBe("scheduled");
  });
});
