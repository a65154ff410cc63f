/**
 * script-flush: the server's script cache emptied every 100 ms while a
 * worker runs tasks and a producer adds. Sheppy's scripts run by SHA; each
 * NOSCRIPT answer must be met by sending the script itself (ioredis does so),
 * so that nothing fails and nothing is lost.
 */
import { SteadyProducer } from "../adds.js";
import { waitForDrain } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";
import { attributeTakeovers, liveTakeoverFinding, takeoverSummary } from "../takeovers.js";

export const scriptFlush: Scenario = {
  name: "script-flush",
  what: "1 worker (concurrency 10) on 2,000 tasks of 20 ms (1,000 queued, 1,000 added one by one during the fault); SCRIPT FLUSH every 100 ms for 10 s",
  recovery: "last SCRIPT FLUSH → every task finished",
  async run(flags: Flags): Promise<RunResult> {
    const total = flag(flags, "tasks", 2000);
    const faultMs = flag(flags, "fault-ms", 10_000);
    const rig = await Rig.open("script-flush", { worker: { concurrency: 10 } });
    try {
      const first = rig.tasks(total / 2, flag(flags, "work-ms", 20));
      const later = rig.tasks(total / 2, flag(flags, "work-ms", 20), total / 2);
      const all = [...first, ...later];
      await rig.producer.add(first);
      await rig.spawn(1);
      const admin = rig.server.admin();
      const producer = new SteadyProducer(rig.producer);
      const faultStart = Date.now();
      const producing = producer.run(
        later,
        Math.max(1, Math.floor((faultMs * 0.8) / later.length)),
      );
      let flushes = 0;
      let lastFlush = faultStart;
      while (Date.now() - faultStart < faultMs) {
        await admin.script("FLUSH");
        flushes++;
        lastFlush = Date.now();
        await sleep(flag(flags, "every-ms", 100));
      }
      await producing;
      await producer.answered();
      const outcome = await waitForDrain(
        rig.producer,
        all.map((t) => t.id),
        { refused: producer.refusedIds() },
      );
      const executions = await rig.executions();
      const result = baseResult(all.length, outcome, executions, producer.refusedIds());
      result.faultAdds = producer.duringFault(
        faultStart,
        lastFlush,
        (id) => outcome.records.get(id) != null,
      );
      result.recoverMs =
        outcome.lastFinishedAt === null ? null : Math.max(0, outcome.lastFinishedAt - lastFlush);
      const stats = String(await admin.info("stats"));
      const takeovers = attributeTakeovers(rig.workers, executions);
      result.figures.push(
        ["script flushes", flushes],
        ["add answer times during the fault", producer.answerTimes(faultStart, lastFlush)],
        [
          "tasks finished while flushing",
          [...outcome.records.values()].filter(
            (t) => (t?.finishedAt?.getTime() ?? Infinity) <= lastFlush,
          ).length,
        ],
        [
          "error replies from the server (NOSCRIPT, each followed by the script itself)",
          /total_error_replies:(\d+)/.exec(stats)?.[1] ?? "?",
        ],
        [
          "worker log lines",
          rig.workers.flatMap((w) => [...w.logged].map(([m, n]) => `${n}× ${m}`)).join("; ") ||
            "none",
        ],
        ["takeovers (reclaimed)", takeoverSummary(takeovers)],
        [
          "producer warnings",
          [...rig.logger.counts].map(([m, n]) => `${n}× ${m}`).join("; ") || "none",
        ],
      );
      if (result.lost > 0) result.findings.push(`${result.lost} tasks lost`);
      if (result.faultAdds.refused > 0)
        result.findings.push(
          `${result.faultAdds.refused} adds refused (${producer.refusals().keys().next().value})`,
        );
      if (result.runTwice > 0) result.findings.push(`${result.runTwice} tasks ran twice`);
      result.findings.push(...liveTakeoverFinding(takeovers));
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
