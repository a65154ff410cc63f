/**
 * debug-sleep and long-outage: long tasks running on two live workers while
 * the server stops answering (DEBUG SLEEP) or is down altogether, each time
 * for longer than the 1 s lease. No worker dies, so every takeover is a
 * takeover from a live worker — the figure that must be 0 — and no task may
 * run twice.
 */
import { executionsKey } from "../../../test/fixtures/crash-tasks.js";
import { lastRenewalAfter, processingKey } from "../leases.js";
import { waitForDrain } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";
import { attributeTakeovers, liveTakeoverFinding, takeoverSummary } from "../takeovers.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface LeaseFault {
  name: string;
  what: string;
  tasks: number;
  workMs: number;
  runs?: number;
  aof: boolean;
  /**
   * Does the fault; resolves once it is over, with what it did and the
   * earliest instant (epoch ms) the server could take a renewal again.
   */
  inflict(rig: Rig, flags: Flags): Promise<{ description: string; endedAt: number }>;
}

function liveLeaseScenario(fault: LeaseFault): Scenario {
  return {
    name: fault.name,
    what: fault.what,
    recovery:
      "end of the fault → the last running task's lease renewed again (its score in the server's lease set)",
    ...(fault.runs ? { runs: fault.runs } : {}),
    async run(flags: Flags): Promise<RunResult> {
      const count = flag(flags, "tasks", fault.tasks);
      const workMs = flag(flags, "work-ms", fault.workMs);
      const rig = await Rig.open(fault.name, {
        server: {
          persistence: fault.aof ? "aof" : "none",
          extraArgs: ["--enable-debug-command", "yes"],
        },
        worker: { concurrency: count, heartbeat: 0.2, lease: 1, reclaim: 0.2 },
      });
      try {
        await rig.spawn(2);
        const added = rig.tasks(count, workMs);
        await rig.producer.add(added);
        // The fault must find every task running, spread over both workers.
        while ((await rig.recorder.llen(executionsKey(rig.prefix))) < count) await sleep(20);
        const faultStart = Date.now();
        const { description, endedAt: faultEnd } = await fault.inflict(rig, flags);
        // Lease scores are the server's clock, which is this host's clock: the fault's end compares directly.
        const renewedAt = await lastRenewalAfter(
          rig.server.admin(),
          processingKey(rig.prefix, rig.queueName),
          faultEnd,
        );
        const outcome = await waitForDrain(
          rig.producer,
          added.map((t) => t.id),
          { timeoutMs: 60_000 },
        );
        const executions = await rig.executions();
        const result = baseResult(added.length, outcome, executions);
        result.recoverMs = renewedAt === null ? null : renewedAt - faultEnd;
        const takenOver = attributeTakeovers(rig.workers, executions);
        const retried = [...outcome.records.values()].filter((t) => (t?.retryCount ?? 0) > 0);
        const lostClaims = rig.workers.reduce(
          (n, w) => n + w.count("another worker took over running tasks"),
          0,
        );
        result.figures.push(
          ["fault", `${description}; ${seconds(faultEnd - faultStart)} in all`],
          ["tasks taken over from a live worker", takeoverSummary(takenOver)],
          ["tasks with retryCount > 0", retried.length],
          ["workers told their claim was taken over", lostClaims],
          [
            "queue drained",
            outcome.lastFinishedAt === null
              ? "—"
              : `+${seconds(outcome.lastFinishedAt - faultEnd)} after the fault`,
          ],
        );
        if (renewedAt === null)
          result.findings.push("leases were not all renewed within 30 s of the fault");
        result.findings.push(...liveTakeoverFinding(takenOver));
        if (result.runTwice > 0) result.findings.push(`${result.runTwice} tasks ran twice`);
        if (result.overlapped > 0)
          result.findings.push(`two runs overlapped for ${result.overlapped} tasks`);
        if (result.completed !== added.length) {
          result.findings.push(`${added.length - result.completed} tasks did not complete`);
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

export const debugSleep = liveLeaseScenario({
  name: "debug-sleep",
  // 8 s rather than 6 s: the three pauses take 6.6 s, and every task must still be running when they end.
  what: "2 workers run 16 tasks of 8 s (heartbeat 0.2 s, lease 1 s); the server is paused by DEBUG SLEEP 2 three times, 0.3 s apart",
  tasks: 16,
  workMs: 8000,
  runs: 5,
  aof: false,
  async inflict(rig, flags) {
    const pauses = flag(flags, "pauses", 3);
    const pauseMs = flag(flags, "pause-s", 2) * 1000;
    const admin = rig.server.admin();
    let endedAt = Date.now();
    for (let i = 0; i < pauses; i++) {
      // The server answers nothing for exactly the pause: it ends pauseMs after the command starts.
      const sent = Date.now();
      await admin.call("DEBUG", "SLEEP", String(pauseMs / 1000));
      endedAt = sent + pauseMs;
      if (i < pauses - 1) await sleep(300);
    }
    return { description: `${pauses} × DEBUG SLEEP ${pauseMs / 1000}`, endedAt };
  },
});

export const longOutage = liveLeaseScenario({
  name: "long-outage",
  what: "2 workers run 20 tasks of 12 s (heartbeat 0.2 s, lease 1 s); the server (AOF) is stopped for 8 s while they run, then started again",
  tasks: 20,
  workMs: 12_000,
  aof: true,
  async inflict(rig, flags) {
    const downMs = flag(flags, "outage-ms", 8000);
    await rig.server.stop();
    await sleep(downMs);
    // No renewal can land before the new server process exists.
    const endedAt = Date.now();
    await rig.server.startAgain();
    return { description: `server down ${seconds(downMs)} (stop → start)`, endedAt };
  },
});
