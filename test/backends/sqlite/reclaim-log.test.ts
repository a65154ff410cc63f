/**
 * A claim whose holder stopped renewing it (killed, paused, its event loop
 * blocked) is taken over by another worker, which logs it with what an
 * operator needs to place it: the task, the attempt that crashed, when that
 * attempt started, and what the task became.
 */
import { Queue, task, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { recordingLogger } from "../../support/recording-logger.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const dir = sqliteTestDir(fileKey(import.meta.url));

const held = task({ name: "reclaim-log.held" }, () => "never runs here");

describe("a takeover's log line", () => {
  afterAll(() => dir.remove());

  it("names the task, the attempt that crashed and when it started", async () => {
    const queue = new Queue(dir.url("tasks.db"), { name: "reclaim-log" });
    const backend = await queue.connect();
    const t = held();
    await queue.add(t);
    // A worker that claimed the task and then went silent: nothing renews the claim.
    const [claim] = await backend.claim("reclaim-log", 1, 0);
    expect(claim?.record.id).toBe(t.id);
    const { lines, logger } = recordingLogger();
    const worker = new Worker(queue, {
      logger,
      logTasks: false,
      heartbeatInterval: 0.1,
      leaseTimeout: 0.5,
      reclaimInterval: 0.1,
      claimWait: 0.05,
    });
    const working = worker.work();
    const done = await queue.waitFor(t, { timeout: 15 });
    await worker.close();
    expect((await working).reclaimed).toBe(1);
    expect(done.status).toBe("crashed");
    const taken = lines.filter((line) => line.msg.startsWith("reclaimed a task"));
    expect(taken).toEqual([
      {
        level: "warn",
        msg: "reclaimed a task whose worker stopped renewing its claim (killed, paused, or blocked for longer than the lease)",
        fields: {
          queue: "reclaim-log",
          taskId: t.id,
          task: "reclaim-log.held",
          attempt: 1,
          status: "crashed",
          startedAt: claim!.record.startedAt,
        },
      },
    ]);
    expect(typeof claim!.record.startedAt).toBe("string");
    await queue.close();
  }, 30_000);
});
