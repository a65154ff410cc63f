/**
 * hostile-inputs: a worker process fed everything a task or a stored record
 * can throw at it — tasks throwing hostile values (Proxies whose traps throw,
 * revoked Proxies, cycles, BigInts, throwing getters…), a result nested too
 * deep, and records corrupted by hand in Redis (not JSON, an id that is not
 * the key's, unusable options, arguments nested far too deep, a corrupted
 * counter). The worker process must stay up, and each bad task must end
 * failed once — a bad record with a SerializationError — never reclaimed or
 * retried without end.
 */
import type { JsonValue } from "sheppy";
import { deepResult, depthOf, hostileNamed, hostileThrow, NAMED_KINDS } from "../hostile-tasks.js";
import { readOutcome, waitForDrain } from "../outcome.js";
import { type Flags, flag, type RunResult, type Scenario } from "../report.js";
import { baseResult, Rig, sleep } from "../rig.js";

/** `[[[…[1]…]]]`, `depth` arrays deep, as JSON text (built without recursion). */
function nestedText(depth: number): string {
  return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
}

function nested(depth: number): JsonValue {
  let value: JsonValue = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

export const hostileInputs: Scenario = {
  name: "hostile-inputs",
  what: "1 worker process runs 200 tasks throwing fast-check hostile values, 15 named hostile throws, a too-deep result and 20 innocent tasks, and meets 10 records corrupted by hand (bad JSON, foreign id, unusable rateLimit/retryDelay/status/name/args, arguments 100 to 100,000 levels deep) and a counter set to 'abc'",
  recovery: "not a recovery scenario (—); the figure that matters is that the worker is still up",
  async run(flags: Flags): Promise<RunResult> {
    const seed = flag(flags, "seed", 1);
    const count = flag(flags, "tasks", 200);
    const rig = await Rig.open("hostile-inputs", {
      worker: {
        concurrency: 8,
        heartbeat: 0.2,
        lease: 1,
        reclaim: 0.2,
        taskModules: ["bench/faults/hostile-tasks.ts"],
      },
    });
    try {
      const raw = rig.server.admin();
      const tag = `{${rig.prefix}:${rig.queueName}}`;
      // Arguments too deep are refused where the task is created; the hand-written records below skip that check.
      let creation = "accepted";
      try {
        depthOf(nested(100));
      } catch (error) {
        creation = `${(error as Error).name}: ${(error as Error).message.slice(0, 100)}`;
      }
      const good = { ...depthOf([1]).toJSON(), status: "pending" };
      const handWritten: Record<string, string> = {
        "not-json": "{this is not json",
        "foreign-id": JSON.stringify({ ...good, id: "not-this-key" }),
        "bad-rate": JSON.stringify({
          ...good,
          id: "bad-rate",
          config: {
            ...good.config,
            rateLimit: { maxRate: "x", ratePeriod: 1, key: "k", strategy: "sliding_window" },
          },
        }),
        "bad-delay": JSON.stringify({
          ...good,
          id: "bad-delay",
          config: { ...good.config, retry: 2, retryDelay: "abc" },
        }),
        "bad-status": JSON.stringify({ ...good, id: "bad-status", status: "sleeping" }),
        "no-name": JSON.stringify({ ...good, id: "no-name", name: undefined }),
        "args-not-a-list": JSON.stringify({ ...good, id: "args-not-a-list", args: "x" }),
        "args-100-deep": JSON.stringify({ ...good, id: "args-100-deep" }).replace(
          '"args":[[1]]',
          `"args":[${nestedText(100)}]`,
        ),
        "args-10000-deep": JSON.stringify({ ...good, id: "args-10000-deep" }).replace(
          '"args":[[1]]',
          `"args":[${nestedText(10_000)}]`,
        ),
        "args-100000-deep": JSON.stringify({ ...good, id: "args-100000-deep" }).replace(
          '"args":[[1]]',
          `"args":[${nestedText(100_000)}]`,
        ),
      };
      for (const [id, d] of Object.entries(handWritten)) {
        await raw.hset(`${tag}:t:${id}`, "d", d);
        await raw.zadd(`${tag}:ids`, Date.now(), id);
        await raw.rpush(`${tag}:pending`, id);
      }
      await raw.hset(`${tag}:counts`, "completed", "abc");
      // Innocent tasks queued right behind the bad records, so they are claimed beside them:
      // any of them not completed was taken down by a neighbour.
      const innocent = Array.from({ length: 20 }, (_, i) => depthOf(nested(1 + (i % 5))));
      const hostile = [
        ...Array.from({ length: count }, (_, i) => hostileThrow(seed, i)),
        ...NAMED_KINDS.map((kind) => hostileNamed(kind)),
      ];
      const deep = deepResult(100);
      const control = depthOf(nested(10));
      const tasks = [...innocent, ...hostile, deep, control];
      await rig.producer.add(tasks);
      await rig.spawn(1);
      const ids = [...tasks.map((t) => t.id), ...Object.keys(handWritten)];
      // A bad record that is reclaimed without end keeps the queue busy: give up after 30 s.
      const outcome = await waitForDrain(rig.producer, ids, { timeoutMs: 30_000 });
      // Longer than a lease and its confirmation window: a claim left behind would be taken over now.
      await sleep(3000);
      const later = await readOutcome(rig.producer, ids);
      const changed = ids.filter(
        (id) => later.records.get(id)?.status !== outcome.records.get(id)?.status,
      );
      const stats = await rig.producer.stats();
      const executions = await rig.executions();
      const result = baseResult(ids.length, later, executions);
      const worker = rig.workers[0]!;
      const crashMarkingFailed = worker.count(
        "could not mark a task whose worker stopped as crashed",
      );
      const describe = (id: string) => {
        const t = later.records.get(id);
        return t
          ? `${t.status}${t.error ? ` ${t.error.type}: ${t.error.message.slice(0, 90)}` : ` → ${JSON.stringify(t.result)}`}`
          : "missing";
      };
      const thrown = hostile.map((t) => later.records.get(t.id));
      const failedReadably = thrown.filter(
        (t) =>
          t?.status === "failed" &&
          typeof t.error?.type === "string" &&
          typeof t.error.message === "string",
      ).length;
      const types = new Map<string, number>();
      for (const t of thrown)
        if (t?.error) types.set(t.error.type, (types.get(t.error.type) ?? 0) + 1);
      const actualCompleted = later.statuses.completed ?? 0;
      result.figures.push(
        [
          "worker process still up after all of it",
          worker.alive ? "yes" : `no (exit ${worker.exit?.code}, ${worker.exit?.signal})`,
        ],
        [
          "hostile throws ending failed with a readable error",
          `${failedReadably} of ${thrown.length}`,
        ],
        ["  their stored error types", [...types].map(([t, n]) => `${t} ${n}`).join(", ")],
        ["result nested 100 deep", describe(deep.id)],
        ["arguments 10 deep (control)", describe(control.id)],
        ["creating a task with arguments 100 deep", creation],
        [
          "innocent tasks (arguments 1–5 deep) completed",
          `${innocent.filter((t) => later.records.get(t.id)?.status === "completed").length} of ${innocent.length}`,
        ],
        ...Object.keys(handWritten).map((id): [string, string] => [`record '${id}'`, describe(id)]),
        [
          "completed counter (was set to 'abc')",
          `stats() says ${stats.completed}; records: ${actualCompleted}`,
        ],
        ["processing after the run", stats.processing],
        ["takeovers (reclaimed and marked crashed)", worker.reclaimed.length],
        ["takeovers whose crash could not be stored (reclaimed again)", crashMarkingFailed],
        ["statuses changed in the 3 s after the drain", changed.length],
        [
          "worker stderr lines",
          worker.stderr.length
            ? `${worker.stderr.length} (first: ${worker.stderr[0]!.text.slice(0, 160)})`
            : 0,
        ],
        [
          "worker log lines",
          [...worker.logged].map(([m, n]) => `${n}× ${m.slice(0, 120)}`).join("; ") || "none",
        ],
      );
      if (!worker.alive)
        result.findings.push(`the worker process died: ${worker.stderrText().slice(0, 300)}`);
      if (failedReadably !== thrown.length) {
        result.findings.push(
          `${thrown.length - failedReadably} hostile throws did not end failed with a readable error`,
        );
      }
      for (const id of Object.keys(handWritten)) {
        const t = later.records.get(id);
        if (t?.status !== "failed" || t.error?.type !== "SerializationError") {
          result.findings.push(
            `record '${id}' ended ${describe(id)}, not failed with a SerializationError`,
          );
        }
      }
      const stuckInnocent = innocent.filter((t) => later.records.get(t.id)?.status !== "completed");
      if (stuckInnocent.length > 0) {
        result.findings.push(
          `${stuckInnocent.length} innocent tasks did not complete (e.g. ${stuckInnocent[0]!.id}: ${describe(stuckInnocent[0]!.id)})`,
        );
      }
      if (stats.completed !== actualCompleted)
        result.findings.push(
          `completed counter says ${stats.completed}, records ${actualCompleted}`,
        );
      if (worker.reclaimed.length > 0)
        result.findings.push(`${worker.reclaimed.length} bad tasks were reclaimed`);
      if (crashMarkingFailed > 0) {
        result.findings.push(
          `${crashMarkingFailed} times a takeover could not store the crash ("could not mark a task whose worker stopped as crashed; it will be reclaimed again"): endless reclaim`,
        );
      }
      if (changed.length > 0)
        result.findings.push(
          `${changed.length} statuses changed after the drain (endless reclaim or retry)`,
        );
      if (result.lost > 0)
        result.findings.push(`${result.lost} tasks never reached a final status`);
      if (stats.processing !== 0)
        result.findings.push(`${stats.processing} tasks still processing`);
      await rig.stopWorkers(result.findings);
      return result;
    } finally {
      await rig.close();
    }
  },
};
