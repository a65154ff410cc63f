/**
 * maxmemory: the server at its memory limit (noeviction). New work must be
 * refused with the typed BackendFullError, while tasks already running keep
 * their leases (renewals and settles are allowed past the limit), finish and
 * are stored. Once the limit is lifted, work flows again.
 */
import { BackendFullError, task } from "sheppy";
import { executionsKey } from "../../../test/fixtures/crash-tasks.js";
import { readOutcome } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";
import { attributeTakeovers, liveTakeoverFinding, takeoverSummary } from "../takeovers.js";

/** Waiting work that fills memory: scheduled an hour ahead, so it is never run during the scenario. */
const bulky = task({ name: "faults.bulky" }, (payload: string) => payload.length);

export const maxmemory: Scenario = {
  name: "maxmemory",
  what: "2 workers run 8 tasks of 5 s on a server with --maxmemory 4mb, noeviction; a producer schedules 20 KB tasks until refused, the limit is then lowered to 1mb (small adds must be refused too) and finally lifted",
  recovery: "limit lifted (CONFIG SET maxmemory 0) → a new task added and completed",
  async run(flags: Flags): Promise<RunResult> {
    const running = flag(flags, "tasks", 8);
    const rig = await Rig.open("maxmemory", {
      server: { extraArgs: ["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"] },
      worker: { concurrency: running, heartbeat: 0.2, lease: 1, reclaim: 0.2 },
    });
    try {
      await rig.spawn(2);
      const long = rig.tasks(running, flag(flags, "work-ms", 5000));
      await rig.producer.add(long);
      while ((await rig.recorder.llen(executionsKey(rig.prefix))) < running) await sleep(20);

      const faultStart = Date.now();
      const payload = "x".repeat(20_000);
      const accepted: string[] = [];
      let refusal: unknown;
      let tried = 0;
      for (let i = 0; i < 2000 && refusal === undefined; i++) {
        const t = bulky(payload);
        tried++;
        await rig.producer.schedule(t, 3600).then(
          () => accepted.push(t.id),
          (error: unknown) => {
            refusal = error;
          },
        );
      }
      // Right at the limit a small write can slip under it; a lower limit keeps the server over it.
      const admin = rig.server.admin();
      await admin.config("SET", "maxmemory", "1mb");
      const small = { tried: 0, accepted: 0, refusedTyped: 0, other: [] as string[] };
      for (let i = 0; i < 20; i++) {
        const t = bulky("small");
        small.tried++;
        await rig.producer.add(t).then(
          () => {
            small.accepted++;
            accepted.push(t.id);
          },
          (error: unknown) => {
            if (error instanceof BackendFullError) small.refusedTyped++;
            else small.other.push(String(error));
          },
        );
      }
      // Well past the lease and the confirmation window: the running tasks must all finish, none taken over.
      await rig.producer.waitFor(long, { timeout: 60 }).catch(() => undefined);
      const usedMemory = /used_memory_human:(\S+)/.exec(await admin.info("memory"))?.[1];

      await admin.config("SET", "maxmemory", "0");
      const faultEnd = Date.now();
      let recovered: number | null = null;
      const after = rig.tasks(1, 1, running);
      for (let i = 0; i < 100 && recovered === null; i++) {
        const added = await rig.producer.add(after[0]!).catch(() => false);
        if (added) {
          await rig.producer.waitFor(after[0]!, { timeout: 30 });
          recovered = Date.now();
        } else await sleep(100);
      }

      const outcome = await readOutcome(
        rig.producer,
        [...long, ...after].map((t) => t.id),
      );
      const executions = await rig.executions();
      const result = baseResult(long.length + after.length, outcome, executions);
      const held = await rig.producer.getTask(accepted);
      result.faultAdds = {
        tried: tried + small.tried,
        acknowledged: accepted.length,
        refused: tried + small.tried - accepted.length,
        lost: held.filter((t) => t === null).length,
        why:
          refusal === undefined
            ? "never refused"
            : `first refusal: ${(refusal as Error).name}${refusal instanceof BackendFullError ? " (typed)" : " (NOT a BackendFullError)"}`,
      };
      result.recoverMs = recovered === null ? null : recovered - faultEnd;
      const takenOver = attributeTakeovers(rig.workers, executions);
      result.figures.push(
        ["20 KB tasks accepted before the refusal", accepted.length - small.accepted],
        ["refusal message", refusal instanceof Error ? refusal.message : String(refusal)],
        [
          "small adds at 1mb",
          `${small.tried} tried: ${small.refusedTyped} refused with BackendFullError, ${small.accepted} accepted, ${small.other.length} other errors${small.other.length ? ` (${small.other[0]})` : ""}`,
        ],
        ["used_memory at the limit", usedMemory ?? "?"],
        [
          "time at the limit (first add → limit lifted)",
          `${((faultEnd - faultStart) / 1000).toFixed(2)} s`,
        ],
        ["tasks taken over from a live worker", takeoverSummary(takenOver)],
        [
          "worker log lines",
          rig.workers.flatMap((w) => [...w.logged].map(([m, n]) => `${n}× ${m}`)).join("; ") ||
            "none",
        ],
      );
      if (!(refusal instanceof BackendFullError)) {
        result.findings.push(`the refusal was not a BackendFullError: ${String(refusal)}`);
      }
      if (small.other.length > 0)
        result.findings.push(`small adds failed untyped: ${small.other[0]}`);
      result.findings.push(...liveTakeoverFinding(takenOver));
      if (result.lost > 0) result.findings.push(`${result.lost} tasks lost`);
      if (result.faultAdds.lost > 0)
        result.findings.push(`${result.faultAdds.lost} accepted adds missing`);
      if (recovered === null)
        result.findings.push("no task could be added and completed after the limit was lifted");
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
