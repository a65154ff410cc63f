/**
 * client-kill: every connection of the server killed over and over (normal
 * and pub/sub clients, every 200 ms for 15 s) while workers run tasks, a
 * producer adds and a waiter waits for all of them. Every reconnect path is
 * exercised hundreds of times: claims, settles, renewals, blocking waits,
 * subscriptions.
 */
import { SteadyProducer } from "../adds.js";
import { waitForDrain } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";
import { attributeTakeovers, liveTakeoverFinding, takeoverSummary } from "../takeovers.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Distinct messages with their counts, on one line. */
function summarize(messages: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].map(([m, n]) => `${n}× ${m}`).join("; ");
}

/**
 * Once a second during the fault, a new queue makes its first call: a
 * process starting while connections are being killed. Sheppy does not retry
 * a first connection (it reports a misconfiguration at once), so these show
 * how a transient drop at that moment is reported.
 */
async function freshConnections(rig: Rig, faultMs: number) {
  const failed: string[] = [];
  let tried = 0;
  const ends = Date.now() + faultMs;
  while (Date.now() < ends) {
    tried++;
    const queue = rig.queue();
    await queue.stats().catch((error: unknown) => {
      failed.push(`${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`);
    });
    await queue.close().catch(() => undefined);
    await sleep(1000);
  }
  return { tried, failed };
}

export const clientKill: Scenario = {
  name: "client-kill",
  what: "2 workers on 3,000 tasks of 20 ms (1,500 queued, 1,500 added one by one during the fault) and a waitFor on all; CLIENT KILL TYPE normal and TYPE pubsub every 200 ms for 15 s",
  recovery: "last CLIENT KILL → every task finished",
  async run(flags: Flags): Promise<RunResult> {
    const total = flag(flags, "tasks", 3000);
    const workMs = flag(flags, "work-ms", 20);
    const faultMs = flag(flags, "fault-ms", 15_000);
    const everyMs = flag(flags, "every-ms", 200);
    const rig = await Rig.open("client-kill", {
      worker: { concurrency: 10, heartbeat: 0.2, lease: 1, reclaim: 0.2 },
    });
    try {
      const first = rig.tasks(total / 2, workMs);
      const later = rig.tasks(total / 2, workMs, total / 2);
      const all = [...first, ...later];
      await rig.producer.add(first);
      await rig.spawn(2);
      const waiter = rig.queue();
      await waiter.connect();
      const waited = waiter.waitFor(all, { timeout: 300 }).then(
        (tasks) => ({ at: Date.now(), count: tasks.length, error: undefined }),
        (error: unknown) => ({ at: Date.now(), count: 0, error: String(error) }),
      );
      // Subscribed before the first kill: what is measured is its reconnection, not its first connect.
      await sleep(500);
      const admin = rig.server.admin();
      const producer = new SteadyProducer(rig.producer);
      const faultStart = Date.now();
      const producing = producer.run(later, Math.max(1, Math.floor(faultMs / later.length)));
      const fresh = freshConnections(rig, faultMs);
      let killed = 0;
      let lastKill = faultStart;
      while (Date.now() - faultStart < faultMs) {
        for (const type of ["normal", "pubsub"]) {
          killed += Number(await admin.client("KILL", "TYPE", type));
        }
        lastKill = Date.now();
        await sleep(everyMs);
      }
      const firstConnects = await fresh;
      await producing;
      await producer.answered();
      const outcome = await waitForDrain(
        rig.producer,
        all.map((t) => t.id),
        { refused: producer.refusedIds() },
      );
      const wait = await Promise.race([waited, sleep(30_000).then(() => undefined)]);
      await waiter.close();
      const executions = await rig.executions();
      const result = baseResult(all.length, outcome, executions, producer.refusedIds());
      result.faultAdds = producer.duringFault(
        faultStart,
        lastKill,
        (id) => outcome.records.get(id) != null,
      );
      result.recoverMs =
        outcome.lastFinishedAt === null ? null : Math.max(0, outcome.lastFinishedAt - lastKill);
      const takeovers = attributeTakeovers(rig.workers, executions);
      const workerWarnings = new Map<string, number>();
      for (const w of rig.workers) {
        for (const [message, n] of w.logged)
          workerWarnings.set(message, (workerWarnings.get(message) ?? 0) + n);
      }
      result.figures.push(
        ["connections killed", killed],
        [
          "waitFor on every task",
          wait === undefined
            ? "did not resolve within 30 s of the drain"
            : (wait.error ??
              `resolved with ${wait.count} tasks, ${seconds(wait.at - (outcome.lastFinishedAt ?? wait.at))} after the last finished`),
        ],
        [
          "first connections made during the fault",
          `${firstConnects.tried} tried, ${firstConnects.failed.length} failed${firstConnects.failed.length ? `: ${summarize(firstConnects.failed)}` : ""}`,
        ],
        ["add answer times during the fault", producer.answerTimes(faultStart, lastKill)],
        [
          "add refusals",
          summarize([...producer.refusals()].flatMap(([m, n]) => Array(n).fill(m))) || "none",
        ],
        ["takeovers (reclaimed)", takeoverSummary(takeovers)],
        [
          "worker log lines",
          [...workerWarnings].map(([m, n]) => `${n}× ${m}`).join("; ") || "none",
        ],
      );
      if (result.lost > 0) result.findings.push(`${result.lost} tasks lost`);
      if (result.faultAdds.lost > 0)
        result.findings.push(`${result.faultAdds.lost} acknowledged adds lost`);
      // The server is back within ~0.1 s of every kill: a call has unavailableAfter (10 s) to get through.
      if (result.faultAdds.refused > 0) {
        result.findings.push(
          `${result.faultAdds.refused} adds refused (${result.faultAdds.why}) though the server was reachable within ~0.1 s of every kill; ${result.faultAdds.refusedButStored ?? 0} of them were stored all the same`,
        );
      }
      if (wait?.error !== undefined || wait === undefined) {
        result.findings.push(
          `waitFor on every task did not resolve: ${wait?.error ?? "no answer"}`,
        );
      }
      if (firstConnects.failed.length > 0) {
        result.findings.push(
          `${firstConnects.failed.length} of ${firstConnects.tried} first calls of a new queue failed: ${summarize(firstConnects.failed)}`,
        );
      }
      result.findings.push(...liveTakeoverFinding(takeovers));
      if (executions.overlapped.length > 0) {
        result.findings.push(`two runs overlapped for ${executions.overlapped.length} tasks`);
      }
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
