/**
 * @module worker/reclaim
 * What a worker does with tasks whose lease went stale (their worker stopped
 * renewing it): each one's attempt counts as crashed — `crashed`, or
 * `retrying` when the task opted in with `retryOnCrash` — and the reclaim is
 * logged and emitted. A record whose outcome was already stored only needs
 * its claim released.
 */
import { WorkerCrashedError } from "../errors.js";
import { failedRecord } from "../execution/outcome.js";
import type { Queue } from "../queue/queue.js";
import { Task, type TaskData } from "../task/task-record.js";
import type { WorkRun } from "./work-run.js";
import type { WorkerContext } from "./worker-context.js";

/** Takes over the stale tasks `stale` of `queue` that are not this worker's own. */
export async function reclaimStale(
  context: WorkerContext,
  queue: Queue,
  stale: TaskData[],
  run: WorkRun,
): Promise<void> {
  const { events, flights, options } = context;
  // A lease of our own that went stale (heartbeats failed during an outage) is simply ours again.
  const records = stale.filter((r) => !flights.has(queue, r.id));
  const alreadyFinished = records.filter((r) => r.finishedAt !== null).map((r) => r.id);
  if (alreadyFinished.length > 0) await queue.backend.acknowledge(queue.name, alreadyFinished);
  const now = options.clock.now();
  await Promise.all(
    records
      .filter((r) => r.finishedAt === null)
      .map(async (data) => {
        const record = failedRecord(data, new WorkerCrashedError(), now, "crash");
        await run.writer.store(queue, record);
        run.summary.reclaimed++;
        options.logger.warn(
          { queue: queue.name, taskId: data.id, task: data.name, status: record.status },
          "reclaimed a task whose worker stopped",
        );
        if (events.listenerCount("task:crashed") > 0)
          events.emit("task:crashed", { queue: queue.name, task: new Task(record, null) });
      }),
  );
}
