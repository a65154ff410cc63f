/**
 * waitfor-2000: two thousand callers waiting for their own task at once, on
 * one backend instance, while a worker process completes the tasks. Waiting
 * must not cost a connection per waiter (they share one subscription), and
 * every wait must resolve with the finished record.
 */
import { waitForDrain } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";

/** The name the waiter's connections give themselves, so CLIENT LIST can tell them apart. */
const WAITER = "faults-waiter";

/** The connections named `name` in CLIENT LIST. */
function countNamed(list: string, name: string): number {
  return list.split("\n").filter((line) => line.includes(` name=${name} `)).length;
}

export const waitfor2000: Scenario = {
  name: "waitfor-2000",
  what: "2,000 concurrent queue.waitFor calls (one per task) on one backend instance while 1 worker process (concurrency 20) completes 2,000 tasks of 5 ms",
  recovery: "last task finished → last waitFor resolved",
  async run(flags: Flags): Promise<RunResult> {
    const count = flag(flags, "tasks", 2000);
    const rig = await Rig.open("waitfor-2000", { worker: { concurrency: 20 } });
    try {
      const added = rig.tasks(count, flag(flags, "work-ms", 5));
      await rig.producer.add(added);
      const waiter = rig.queue(10, { connectionName: WAITER });
      const admin = rig.server.admin();
      const started = Date.now();
      const resolvedAt: number[] = [];
      const failures: string[] = [];
      const waits = added.map((t) =>
        waiter.waitFor(t, { timeout: 120 }).then(
          (done) => {
            if (done.status === "completed") resolvedAt.push(Date.now());
            else failures.push(`${t.id}: ${done.status}`);
          },
          (error: unknown) => {
            failures.push(String(error));
          },
        ),
      );
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const list = String(await admin.client("LIST"));
          peak = Math.max(peak, countNamed(list, WAITER));
          await sleep(100);
        }
      })();
      // Every waiter is waiting before any task runs.
      await sleep(1000);
      const waitingConnections = countNamed(String(await admin.client("LIST")), WAITER);
      await rig.spawn(1);
      const workerReady = Date.now();
      await Promise.all(waits);
      const lastResolved = Date.now();
      sampling = false;
      await sampler;
      await waiter.close();
      const outcome = await waitForDrain(
        rig.producer,
        added.map((t) => t.id),
      );
      const executions = await rig.executions();
      const result = baseResult(added.length, outcome, executions);
      result.recoverMs =
        outcome.lastFinishedAt === null ? null : Math.max(0, lastResolved - outcome.lastFinishedAt);
      result.figures.push(
        ["waits resolved with a completed task", `${resolvedAt.length} of ${count}`],
        ["waits failed", failures.length ? `${failures.length} (e.g. ${failures[0]})` : 0],
        ["waiter connections while 2,000 wait", waitingConnections],
        ["waiter connections, peak", peak],
        [
          "worker ready → last wait resolved",
          `${((lastResolved - workerReady) / 1000).toFixed(2)} s`,
        ],
        ["whole run", `${((lastResolved - started) / 1000).toFixed(2)} s`],
      );
      if (resolvedAt.length !== count)
        result.findings.push(
          `${count - resolvedAt.length} waits did not resolve with a completed task`,
        );
      if (peak > 5) result.findings.push(`the waiter used ${peak} connections`);
      if (result.lost > 0) result.findings.push(`${result.lost} tasks lost`);
      for (const w of rig.crashedWorkers()) {
        result.findings.push(
          `worker ${w.pid} exited by itself (${w.exit?.code}): ${w.stderrText().slice(0, 300)}`,
        );
      }
      await rig.stopWorkers(result.findings);
      return result;
    } finally {
      await rig.close();
    }
  },
};
