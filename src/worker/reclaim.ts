/**
 * @module worker/reclaim
 * What a worker does with claims it took over because their holder stopped
 * renewing them: each one's attempt counts as crashed — `crashed`, or
 * `retrying` when the task opted in with `retryOnCrash` — and the takeover
 * is logged and emitted. A claim that turns out to be this worker's own
 * (its renewals failed for a while) simply goes on under the new fence.
 */
import type { ClaimedTask } from "../backends/backend.js";
import type { Queue } from "../queue/queue.js";
import { Task } from "../task/task-record.js";
import { attemptFields } from "./task-log.js";
import type { WorkRun } from "./work-run.js";
import type { WorkerContext } from "./worker-context.js";

/** Settles the taken-over claims `expired` of `queue` as crashed attempts. */
export async function settleExpired(
  context: WorkerContext,
  queue: Queue,
  expired: readonly ClaimedTask[],
  run: WorkRun,
): Promise<void> {
  const { events, flights, metrics, options } = context;
  await Promise.all(
    expired
      .filter((claim) => !flights.adopt(queue, claim))
      .map(async (claim) => {
        const end = await flights.crash(queue, claim);
        const { record } = end;
        const about = { queue: queue.name, taskId: record.id, task: record.name };
        if (end.result !== "settled") {
          options.logger.warn(
            { ...about, err: end.settleError },
            "could not mark a task whose worker stopped as crashed; it will be reclaimed again",
          );
          return;
        }
        run.summary.reclaimed++;
        metrics.crashed(queue.name, record);
        // The attempt that crashed is the claimed one, and when it started tells an operator
        // which deploy, kill or stall it fell in.
        options.logger.warn(
          {
            ...attemptFields(queue.name, claim.record),
            status: record.status,
            startedAt: claim.record.startedAt,
          },
          "reclaimed a task whose worker stopped renewing its claim (killed, paused, or blocked for longer than the lease)",
        );
        if (events.listenerCount("task:crashed") > 0)
          events.emit("task:crashed", {
            queue: queue.name,
            // A reclaimed attempt ends crashed, or retrying with retryOnCrash.
            task: new Task(record, null) as Task<unknown, "crashed" | "retrying">,
          });
      }),
  );
}
