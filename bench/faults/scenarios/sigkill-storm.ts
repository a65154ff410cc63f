/**
 * sigkill-storm: worker processes SIGKILLed one after another while a large
 * queue of short tasks drains. Every task must reach a final status; only
 * tasks a killed worker held may run twice, and never two runs at once.
 */
import { median } from "../../stats.js";
import { waitForDrain } from "../outcome.js";
import { seeded } from "../random.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";
import { attributeTakeovers } from "../takeovers.js";
import type { WorkerProcess } from "../workers.js";

export const sigkillStorm: Scenario = {
  name: "sigkill-storm",
  what: "4 worker processes (heartbeat 0.2 s, lease 1 s, reclaim 0.2 s) drain 5,000 tasks of 20 ms (retryOnCrash, 1 retry); a random one is SIGKILLed every 2 s and replaced",
  recovery:
    "per kill, SIGKILL → first task the dead worker held taken over by another worker; the figure is the slowest kill of the run",
  async run(flags: Flags, runIndex: number): Promise<RunResult> {
    const tasks = flag(flags, "tasks", 5000);
    const workMs = flag(flags, "work-ms", 20);
    const workerCount = flag(flags, "workers", 4);
    const killEveryMs = flag(flags, "kill-every", 2000);
    const random = seeded(flag(flags, "seed", 1) + runIndex);
    const rig = await Rig.open("sigkill-storm", {
      worker: {
        concurrency: flag(flags, "concurrency", 4),
        heartbeat: 0.2,
        lease: 1,
        reclaim: 0.2,
      },
    });
    try {
      const added = rig.tasks(tasks, workMs);
      for (let i = 0; i < added.length; i += 500) await rig.producer.add(added.slice(i, i + 500));
      const live: WorkerProcess[] = await rig.spawn(workerCount);
      const started = Date.now();
      const replacements: Promise<unknown>[] = [];
      const victims: WorkerProcess[] = [];
      for (;;) {
        await sleep(killEveryMs);
        const stats = await rig.producer.stats();
        if (stats.pending + stats.scheduled === 0) break;
        const alive = live.filter((w) => w.alive);
        if (alive.length === 0) break;
        const victim = alive[Math.floor(random() * alive.length)]!;
        victim.kill();
        victims.push(victim);
        replacements.push(rig.spawn(1).then((more) => live.push(...more)));
      }
      await Promise.all(replacements);
      const outcome = await waitForDrain(
        rig.producer,
        added.map((t) => t.id),
      );
      const drainedAt = outcome.lastFinishedAt;
      const executions = await rig.executions();
      const result = baseResult(added.length, outcome, executions);

      const takeovers = attributeTakeovers(rig.workers, executions);
      const killed = new Set(victims.map((v) => v.pid));
      const perKill: number[] = [];
      let heldNothing = 0;
      for (const victim of victims) {
        const first = takeovers.find((t) => t.from === victim.pid);
        if (first) perKill.push(first.at - victim.killedAt!);
        else heldNothing++;
      }
      result.recoverMs = perKill.length ? Math.max(...perKill) : null;
      // A task may run twice only when a killed worker ran it first.
      const notVictims = executions.runTwice.filter((id) => {
        const runs = executions.byTask.get(id) ?? [];
        return !runs.slice(0, -1).every((run) => killed.has(run.pid));
      });
      const held = victims.reduce(
        (total, v) =>
          total +
          [...executions.byTask.values()].filter((runs) =>
            runs.some((run) => run.pid === v.pid && run.end === undefined),
          ).length,
        0,
      );
      result.figures.push(
        ["kills", victims.length],
        ["storm length", `${((Date.now() - started) / 1000).toFixed(1)} s`],
        ["tasks running on workers at their kill", held],
        ["takeovers (reclaimed)", takeovers.length],
        ["  of a live worker's running task", takeovers.filter((t) => t.fromLive).length],
        ["  of a task whose run had returned", takeovers.filter((t) => t.afterReturn).length],
        [
          "  of a task claimed but not started yet (no execution recorded)",
          takeovers.filter((t) => t.from === undefined).length,
        ],
        [
          "kill → first takeover",
          perKill.length
            ? `median ${(median(perKill) / 1000).toFixed(2)} s, max ${(Math.max(...perKill) / 1000).toFixed(2)} s over ${perKill.length} kills (${heldNothing} victims had no task taken over)`
            : "no takeover",
        ],
        [
          "last kill → queue drained",
          drainedAt && victims.length
            ? `${((drainedAt - victims[victims.length - 1]!.killedAt!) / 1000).toFixed(2)} s`
            : "—",
        ],
        ["executions recorded", executions.total],
      );
      if (result.lost > 0) result.findings.push(`${result.lost} tasks lost`);
      if (notVictims.length > 0) {
        result.findings.push(
          `${notVictims.length} tasks ran twice although no killed worker had run them (e.g. ${notVictims.slice(0, 3).join(", ")})`,
        );
      }
      if (executions.overlapped.length > 0) {
        result.findings.push(`two runs overlapped for ${executions.overlapped.length} tasks`);
      }
      const fromLive = takeovers.filter((t) => t.fromLive);
      if (fromLive.length > 0) {
        result.findings.push(
          `${fromLive.length} tasks taken over while their live worker was running them (e.g. ${fromLive[0]!.id} from pid ${fromLive[0]!.from})`,
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
