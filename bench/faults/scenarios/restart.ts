/**
 * restart-aof / restart-no-aof: the server stopped for a while in the middle
 * of a run and started again, while a producer keeps adding. With an
 * append-only file fsynced on every write, nothing acknowledged may be lost;
 * without persistence the restarted server is empty, and the figures say
 * what that costs (expected, reported as it is).
 */
import { SteadyProducer } from "../adds.js";
import { waitForDrain } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";
import { attributeTakeovers, liveTakeoverFinding, takeoverSummary } from "../takeovers.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function restart(aof: boolean): Scenario {
  const name = aof ? "restart-aof" : "restart-no-aof";
  return {
    name,
    what: `2 workers on 2,000 tasks of 20 ms (1,000 queued, 1,000 added one by one every 10 ms); the server is stopped for 5 s mid-run and started again, ${aof ? "AOF with appendfsync always" : "no persistence (the restarted server is empty)"}`,
    recovery:
      "server answering again → every task added before the restart that the server still holds is finished",
    async run(flags: Flags): Promise<RunResult> {
      const upFront = flag(flags, "tasks", 2000) / 2;
      const workMs = flag(flags, "work-ms", 20);
      const outageMs = flag(flags, "outage-ms", 5000);
      const rig = await Rig.open(name, {
        server: { persistence: aof ? "aof" : "none" },
        worker: { concurrency: 10, heartbeat: 0.2, lease: 1, reclaim: 0.2 },
      });
      try {
        const first = rig.tasks(upFront, workMs);
        const later = rig.tasks(upFront, workMs, upFront);
        await rig.producer.add(first);
        await rig.spawn(2);
        const producer = new SteadyProducer(rig.producer);
        const producing = producer.run(later, 10);
        await sleep(flag(flags, "fault-after-ms", 1500));
        const faultStart = Date.now();
        await rig.server.stop();
        const down = Date.now();
        await sleep(outageMs);
        await rig.server.startAgain();
        const faultEnd = Date.now();
        await producing;
        await producer.answered();
        const all = [...first, ...later];
        const outcome = await waitForDrain(
          rig.producer,
          all.map((t) => t.id),
          { refused: producer.refusedIds() },
        );
        const executions = await rig.executions();
        const result = baseResult(all.length, outcome, executions, producer.refusedIds());
        const held = (id: string) => outcome.records.get(id) != null;
        result.faultAdds = producer.duringFault(faultStart, faultEnd, held);

        const beforeRestart = new Set([
          ...first.map((t) => t.id),
          ...producer.attempts.filter((a) => a.at <= faultEnd).map((a) => a.task.id),
        ]);
        let backlogDone: number | null = null;
        let firstAfter: number | null = null;
        for (const [id, task] of outcome.records) {
          const finished = task?.finishedAt?.getTime();
          if (finished === undefined || finished < faultEnd) continue;
          if (firstAfter === null || finished < firstAfter) firstAfter = finished;
          if (beforeRestart.has(id) && (backlogDone === null || finished > backlogDone)) {
            backlogDone = finished;
          }
        }
        result.recoverMs = backlogDone === null ? null : backlogDone - faultEnd;
        const missing = outcome.missing;
        const neverRan = missing.filter(
          (id) => !(executions.byTask.get(id) ?? []).some((run) => run.end !== undefined),
        );
        const takeovers = attributeTakeovers(rig.workers, executions);
        result.figures.push(
          [
            "outage",
            `${seconds(faultEnd - faultStart)} (SIGTERM → answering again; shutting down took ${seconds(down - faultStart)})`,
          ],
          ["add answer times during the outage", producer.answerTimes(faultStart, faultEnd)],
          ["records missing after the restart", missing.length],
          ["  of which the function never ran to the end", neverRan.length],
          [
            "first task finished after the restart",
            firstAfter === null ? "—" : `+${seconds(firstAfter - faultEnd)}`,
          ],
          [
            "queue drained (last task finished)",
            outcome.lastFinishedAt === null
              ? "—"
              : `+${seconds(outcome.lastFinishedAt - faultEnd)} after the restart`,
          ],
          ["takeovers (reclaimed)", takeoverSummary(takeovers)],
          [
            "tasks with retryCount > 0",
            [...outcome.records.values()].filter((t) => (t?.retryCount ?? 0) > 0).length,
          ],
          [
            "producer warnings",
            [...rig.logger.counts].map(([m, n]) => `${n}× ${m}`).join("; ") || "none",
          ],
        );
        if (aof && result.lost > 0)
          result.findings.push(`${result.lost} tasks lost with AOF (appendfsync always)`);
        // Without persistence, an add the server stored while it was shutting down goes with it:
        // only an acknowledged add made once it was down, and missing afterwards, is a defect.
        const lostOnceDown = producer.attempts.filter(
          (a) => a.at >= down && a.at <= faultEnd && a.acknowledged === true && !held(a.task.id),
        ).length;
        result.figures.push([
          "acknowledged adds lost, made once the server was down",
          `${lostOnceDown} (the other ${result.faultAdds.lost - lostOnceDown} were made while it was shutting down)`,
        ]);
        if (aof ? result.faultAdds.lost > 0 : lostOnceDown > 0) {
          result.findings.push(
            `${aof ? result.faultAdds.lost : lostOnceDown} acknowledged adds made during the outage are not stored after it`,
          );
        }
        if (executions.overlapped.length > 0) {
          result.findings.push(`two runs overlapped for ${executions.overlapped.length} tasks`);
        }
        result.findings.push(...liveTakeoverFinding(takeovers));
        // Every call may keep trying for unavailableAfter (10 s); the outage was shorter.
        if (result.faultAdds.refused > 0 && faultEnd - faultStart < 10_000) {
          result.findings.push(
            `${result.faultAdds.refused} adds refused (${result.faultAdds.why}) although the server answered again after ${seconds(faultEnd - faultStart)}, within unavailableAfter (10 s)`,
          );
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
}

export const restartAof = restart(true);
export const restartNoAof = restart(false);
