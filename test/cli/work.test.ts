/**
 * The built CLI against Redis: one `sheppy work` process runs what separate
 * `sheppy task …` processes add, and the task commands read and change the
 * records. Issue #5, BEHAVIOURS WK-24, WK-26, R-9…R-13.
 */

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue } from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { add, flakyFlow, nap, napping, twoSteps } from "../fixtures/cli/tasks.js";
import {
  expectOneLineError,
  json,
  redisUrlWithPrefix,
  runCli,
  TASKS,
  WorkerProcess,
} from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";
import { until } from "../support/until.js";

const prefix = fileKey(import.meta.url);
const url = redisUrlWithPrefix(REDIS_URL, prefix);
const available = await requireService("Redis", REDIS_URL);

interface Record {
  id: string;
  name: string;
  status: string;
  result: unknown;
  error: { type: string; message: string } | null;
  retryCount: number;
}

describe.skipIf(!available)("sheppy work + sheppy task … on Redis", () => {
  // The queue's backend settings come from the environment, as an operator would set them.
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "cli" };
  const sheppy = (...args: string[]) => runCli(args, env);
  let worker: WorkerProcess;

  beforeAll(async () => {
    worker = new WorkerProcess(["--tasks", TASKS], env);
    await worker.waitFor((r) => r.msg === "worker started", "worker started");
  });

  afterAll(async () => {
    worker?.signal("SIGKILL");
    await deleteRedisPrefix(prefix);
  });

  it("the banner names the queues, the loops, the concurrency and the tasks the modules define", () => {
    const banner = worker.records.find((r) => r.msg === "worker started")!;
    expect(banner).toMatchObject({
      queues: ["cli"],
      loops: ["job processing", "scheduler", "cron manager"],
      concurrency: 10,
      // The fixture module imports "sheppy": these are registered in the CLI's own registry.
      tasks: expect.arrayContaining(["cli.add", "cli.fail", "cli.flaky", "cli.nap"]),
      workflows: expect.arrayContaining(["cli.two-steps", "cli.napping"]),
    });
    // A workflow's resume task is listed as its workflow, not as a task.
    expect((banner.tasks as string[]).some((name) => name.startsWith("workflow:"))).toBe(false);
  });

  it("WK-24: `task add --wait` is run by the separately spawned worker and prints the result", async () => {
    const added = await sheppy("task", "add", `${TASKS}:add`, "--args", "[2, 3]", "--wait");
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    expect(added.stdout).toBe("5\n");

    const list = json<Record[]>(await sheppy("task", "list", "--format", "json"));
    const record = list.find((t) => t.name === "cli.add");
    expect(record).toMatchObject({ status: "completed", result: 5 });
    // One log line per start and finish, from the worker process (the result may land before its log line).
    await worker.waitForTask(record!.id, "task completed");
    expect(worker.messagesFor(record!.id)).toEqual(["task started", "task completed"]);
  });

  it("`task list --status` filters, and the table form shows the task's row", async () => {
    const added = json<Record>(
      await sheppy(
        "task",
        "add",
        `${TASKS}:add`,
        "--args",
        "[40, 2]",
        "--wait",
        "--format",
        "json",
      ),
    );
    expect(added).toMatchObject({ status: "completed", result: 42 });

    const completed = json<Record[]>(
      await sheppy("task", "list", "--status", "completed", "--format", "json"),
    );
    expect(completed.map((t) => t.id)).toContain(added.id);
    const failed = json<Record[]>(
      await sheppy("task", "list", "--status", "failed", "--format", "json"),
    );
    expect(failed.map((t) => t.id)).not.toContain(added.id);

    const table = await sheppy("task", "list");
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+STATUS/);
    expect(table.stdout).toMatch(new RegExp(`${added.id}\\s+cli\\.add\\s+completed`));
  });

  it("a failed task: `--wait` prints one error line and exits 1; `task info` shows the error", async () => {
    const result = await sheppy("task", "add", `${TASKS}:fail`, "--args", '["no luck"]', "--wait");
    const line = expectOneLineError(result, 1);
    expect(line).toMatch(/^error: task [0-9a-f-]{36} failed: TypeError: no luck$/);
    const id = /task ([0-9a-f-]{36})/.exec(line)![1]!;

    const info = json<Record>(await sheppy("task", "info", id, "--format", "json"));
    expect(info).toMatchObject({
      status: "failed",
      error: { type: "TypeError", message: "no luck" },
    });
    await worker.waitForTask(id, "task failed");
    expect(worker.messagesFor(id)).toEqual(["task started", "task failed"]);
  });

  it("`--wait --timeout` on a queue no worker serves says that no worker has claimed the task", async () => {
    const result = await sheppy(
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[1, 1]",
      "-q",
      "cli-idle",
      "--wait",
      "--timeout",
      "1s",
    );
    const line = expectOneLineError(result, 1);
    expect(line).toMatch(
      /^error: task [0-9a-f-]{36} did not finish within 1 s: no worker has claimed it \(is a worker serving queue 'cli-idle' running\?\); it stays queued$/,
    );
    // With --format json, a script also gets the record as it stands.
    const asJson = await sheppy(
      "task",
      "add",
      `${TASKS}:add`,
      "--args",
      "[2, 2]",
      "-q",
      "cli-idle",
      "--wait",
      "--timeout",
      "1s",
      "--format",
      "json",
    );
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ status: "pending", args: [2, 2] });
    expect(asJson.stderr).toMatch(/did not finish within 1 s/);
  });

  it("R-9: `task retry` re-runs a failed task, which then completes", async () => {
    const token = `retry-${Date.now()}`;
    const first = await sheppy(
      "task",
      "add",
      `${TASKS}:flaky`,
      "--args",
      JSON.stringify([token]),
      "--wait",
    );
    const id = /task ([0-9a-f-]{36}) failed/.exec(expectOneLineError(first, 1))![1]!;

    const retried = await sheppy("task", "retry", id, "--wait");
    expect(retried.stderr).toBe("");
    expect(retried.stdout).toBe(`"${token} ok on run 2"\n`);

    const info = json<Record>(await sheppy("task", "info", id, "--format", "json"));
    expect(info).toMatchObject({
      id,
      status: "completed",
      result: `${token} ok on run 2`,
      error: null,
    });
    await worker.waitForTask(id, "task completed");
    expect(worker.messagesFor(id)).toEqual([
      "task started",
      "task failed",
      "task started",
      "task completed",
    ]);
  });

  it("R-10: retrying a completed task needs --force", async () => {
    const done = json<Record>(
      await sheppy("task", "add", `${TASKS}:add`, "--args", "[1, 1]", "--wait", "--format", "json"),
    );
    // A refusal by the task's state, as `task cancel` of a finished task: exit code 1, not 2 (a bad command line).
    const refused = await sheppy("task", "retry", done.id);
    expect(expectOneLineError(refused, 1)).toBe(
      `error: task ${done.id} completed successfully; pass --force to run it again`,
    );

    const forced = await sheppy("task", "retry", done.id, "--force", "--wait");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe("2\n");
  });

  it("`task schedule --delay`, then `task cancel` and `task delete`", async () => {
    const scheduled = json<Record & { scheduledAt: string }>(
      await sheppy(
        "task",
        "schedule",
        `${TASKS}:add`,
        "--args",
        "[1, 2]",
        "--delay",
        "1d",
        "--format",
        "json",
      ),
    );
    expect(scheduled.status).toBe("scheduled");
    expect(new Date(scheduled.scheduledAt).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const waiting = json<Record[]>(
      await sheppy("task", "list", "--status", "scheduled", "--format", "json"),
    );
    expect(waiting.map((t) => t.id)).toContain(scheduled.id);

    const cancelled = await sheppy("task", "cancel", scheduled.id);
    expect(cancelled.stdout).toBe(`task ${scheduled.id} cancelled\n`);
    const info = json<Record>(await sheppy("task", "info", scheduled.id, "--format", "json"));
    expect(info.status).toBe("cancelled");

    const deleted = await sheppy("task", "delete", scheduled.id);
    expect(deleted.stdout).toBe(`task ${scheduled.id} deleted\n`);
    const gone = await sheppy("task", "info", scheduled.id);
    // SHEPPY_QUEUE (exported here) names the only queue looked in: the message says so.
    expect(expectOneLineError(gone, 1)).toBe(
      `error: queue 'cli' has no task ${scheduled.id}: the queue is the one SHEPPY_QUEUE names, and no other was looked in (unset SHEPPY_QUEUE to look in every queue, or pass -q <queue>)`,
    );
    // `task cancel` says it the same way.
    expect(expectOneLineError(await sheppy("task", "cancel", scheduled.id, "-q", "cli"), 1)).toBe(
      `error: queue 'cli' has no task ${scheduled.id}: no other queue was looked in (leave out -q to look in every queue)`,
    );
  });

  it("`task cancel` of a running task needs --force; with it the task is cancelled, and its worker fires its signal and discards its outcome", async () => {
    const queue = new Queue(url, { name: "cli" });
    try {
      const t = nap(60_000);
      await queue.add(t);
      for (let i = 0; i < 300 && (await queue.getTask(t))?.status !== "processing"; i++)
        await sleep(50);
      expect(expectOneLineError(await sheppy("task", "cancel", t.id), 1)).toBe(
        `error: task ${t.id} is running; pass --force to cancel it (its signal fires at its worker's next lease renewal, and its outcome is discarded)`,
      );
      const forced = await sheppy("task", "cancel", t.id, "--force");
      expect(forced).toMatchObject({
        code: 0,
        stdout: `task ${t.id} cancelled while it ran: its concurrency slot is free now, and its function is told to stop at its worker's next lease renewal (one that ignores its signal runs on to its end; its outcome is discarded)\n`,
      });
      // Heard at the worker's next renewal (every 5 s by default): its signal fires, the nap ends.
      await worker.waitFor(
        (r) =>
          r.msg === "this task was cancelled while it ran; its outcome was discarded" &&
          r.taskId === t.id,
        "the cancelled task's outcome discarded",
      );
      expect((await queue.getTask(t))?.status).toBe("cancelled");
    } finally {
      await queue.close();
    }
  });

  it("`task schedule --at` takes an ISO time", async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = json<Record & { scheduledAt: string }>(
      await sheppy(
        "task",
        "schedule",
        `${TASKS}:add`,
        "--args",
        "[3, 4]",
        "--at",
        at,
        "--format",
        "json",
      ),
    );
    expect(scheduled).toMatchObject({ status: "scheduled", scheduledAt: at });
  });

  it("workflows: the worker runs their steps; `workflow list`, `workflow info` and `workflow cancel`", async () => {
    const queue = new Queue(url, { name: "cli" });
    try {
      const wf = await queue.addWorkflow(twoSteps(2));
      const done = await queue.waitForWorkflow(wf, { timeout: 20 });
      expect(done.result).toBe(13);
      const sleeping = await queue.addWorkflow(napping(60_000));

      const list = await sheppy("workflow", "list");
      expect(list.code).toBe(0);
      expect(list.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+STATUS/);
      expect(list.stdout).toMatch(new RegExp(`${wf.id}\\s+cli\\.two-steps\\s+completed`));
      const running = json<{ id: string }[]>(
        await sheppy("workflow", "list", "--running", "--format", "json"),
      );
      expect(running.map((w) => w.id)).toEqual([sleeping.id]);
      const completed = json<{ id: string }[]>(
        await sheppy("workflow", "list", "--status", "completed,failed", "--format", "json"),
      );
      expect(completed.map((w) => w.id)).toEqual([wf.id]);
      expect(expectOneLineError(await sheppy("workflow", "list", "--status", "done"), 2)).toBe(
        "error: --status 'done' is not a workflow status (one of: running, completed, failed, cancelled)",
      );

      const info = await sheppy("workflow", "info", wf.id);
      expect(info.code).toBe(0);
      expect(info.stdout).toMatch(/result\s+13/);
      expect(info.stdout).toMatch(/STEP\s+YIELD\s+TASK\s+TASK ID\s+STATUS/);
      expect(info.stdout.match(/cli\.add\s+[0-9a-f-]{36}\s+completed/g)).toHaveLength(2);
      // With no queue named, the workflow's queue is found, as a task's is.
      const found = await runCli(["workflow", "info", wf.id], { SHEPPY_BACKEND_URL: url });
      expect([found.code, found.stdout]).toEqual([0, info.stdout]);

      // Its step is running (a 60 s nap): --force cancels that too.
      await until(
        async () => (await queue.getWorkflowSteps(sleeping))[0]?.status === "processing",
        { what: "the napping step to start" },
      );
      // Waiting on a running step, not a sleep: nothing to wake.
      expect(expectOneLineError(await sheppy("workflow", "wake", sleeping.id), 1)).toBe(
        `error: workflow ${sleeping.id} is not asleep: it waits for step(s) of task 'cli.nap'`,
      );
      const cancelled = await sheppy("workflow", "cancel", "--force", sleeping.id);
      expect(cancelled).toMatchObject({ code: 0, stdout: `cancelled: ${sleeping.id}\n` });
      expect((await queue.getWorkflowSteps(sleeping)).map((s) => s?.status)).toEqual(["cancelled"]);
      expectOneLineError(await sheppy("workflow", "cancel", sleeping.id), 1);
      expect(expectOneLineError(await sheppy("workflow", "info", "no-such-id"), 1)).toBe(
        "error: queue 'cli' has no workflow no-such-id: the queue is the one SHEPPY_QUEUE names, and no other was looked in (unset SHEPPY_QUEUE to look in every queue, or pass -q <queue>)",
      );
      // Ended, its record can be deleted, once.
      expect(await sheppy("workflow", "delete", sleeping.id)).toMatchObject({
        code: 0,
        stdout: `workflow ${sleeping.id} deleted\n`,
      });
      expect(await queue.getWorkflow(sleeping.id)).toBeNull();
      expect(
        expectOneLineError(await sheppy("workflow", "delete", "-q", "cli", sleeping.id), 1),
      ).toBe(
        `error: queue 'cli' has no workflow ${sleeping.id}: no other queue was looked in (leave out -q to look in every queue)`,
      );
    } finally {
      await queue.close();
    }
  });

  it("`workflow add` starts a workflow from its module: --args, --id (added, or ignored when held), --wait through a sleep; mix-ups are one-line errors", async () => {
    const queue = new Queue(url, { name: "cli" });
    try {
      const started = await sheppy("workflow", "add", `${TASKS}:twoSteps`, "--args", "[2]");
      expect(started).toMatchObject({ code: 0, stderr: "" });
      const id = started.stdout.trim();
      expect((await queue.waitForWorkflow(id, { timeout: 20 })).result).toBe(13);

      const order = `order-${randomUUID()}`;
      const first = json<{
        outcome: string;
        id: string;
        workflow: { id: string; status: string; args: number[] };
      }>(
        await sheppy(
          "workflow",
          "add",
          `${TASKS}:dozing`,
          "--args",
          "[1, 0.2]",
          "--id",
          order,
          "--format",
          "json",
        ),
      );
      expect([first.outcome, first.id, first.workflow.status, first.workflow.args]).toEqual([
        "added",
        order,
        "running",
        [1, 0.2],
      ]);
      const again = await sheppy(
        "workflow",
        "add",
        `${TASKS}:dozing`,
        "--args",
        "[5, 0.2]",
        "--id",
        order,
      );
      // As task add --id answers: the held workflow is not started again; other arguments are said.
      expect(again).toMatchObject({
        code: 0,
        stdout: `ignored ${order}\n`,
        stderr: `warning: workflow ${order} was already held with other arguments ([1,0.2]): it was left as it is, and these arguments were not used (use another --id)\n`,
      });
      expect((await queue.getWorkflow(order))?.args).toEqual([1, 0.2]);
      // A long sleep, woken from the command line.
      const napper = (
        await sheppy("workflow", "add", `${TASKS}:dozing`, "--args", "[20, 3600]")
      ).stdout.trim();
      await until(async () => (await queue.getWorkflowSteps(napper))[1]?.status === "scheduled", {
        what: "the hour's sleep put off",
        timeoutMs: 20_000,
      });
      expect((await sheppy("workflow", "list", "--running")).stdout).toMatch(
        new RegExp(`${napper}\\s+cli\\.dozing\\s+running.*2 \\(1 waited for, asleep\\)`),
      );
      expect(await sheppy("workflow", "wake", napper)).toMatchObject({
        code: 0,
        stdout: `woke workflow ${napper} (1 sleep step)\n`,
      });
      expect((await queue.waitForWorkflow(napper, { timeout: 20 })).result).toBe(22);
      expect(expectOneLineError(await sheppy("workflow", "wake", napper), 1)).toBe(
        `error: workflow ${napper} is completed: there is nothing to wake`,
      );
      // Through the sleep step, which the worker puts off and wakes.
      const waited = await sheppy(
        "workflow",
        "add",
        `${TASKS}:dozing`,
        "--args",
        "[10, 0.3]",
        "--wait",
        "--timeout",
        "20s",
      );
      expect(waited).toMatchObject({ code: 0, stdout: "12\n" });
      const done = await queue.waitForWorkflow(order, { timeout: 20 });
      expect([done.result, done.steps.map((s) => s.name)]).toEqual([
        3,
        ["cli.add", "sheppy.sleep", "cli.add"],
      ]);

      expect(expectOneLineError(await sheppy("workflow", "add", `${TASKS}:add`), 1)).toBe(
        `error: 'add' in module '${TASKS}' is a task, not a workflow: add it with sheppy task add ${TASKS}:add (its workflows: dozing, failingStep, flakyFlow, napping, twoSteps)`,
      );
      expect(expectOneLineError(await sheppy("task", "add", `${TASKS}:twoSteps`), 1)).toContain(
        `is a workflow, not a task: start it with sheppy workflow add ${TASKS}:twoSteps`,
      );
      expect(
        expectOneLineError(
          await sheppy("workflow", "add", `${TASKS}:twoSteps`, "--timeout", "5s"),
          2,
        ),
      ).toBe("error: --timeout needs --wait");
      expect(
        expectOneLineError(
          await sheppy("workflow", "add", `${TASKS}:twoSteps`, "--args", "[1,"),
          2,
        ),
      ).toMatch(/^error: --args is not valid JSON /);
      expect(
        expectOneLineError(
          await sheppy("workflow", "add", `${TASKS}:twoSteps`, "--args", '{"n":1}'),
          2,
        ),
      ).toBe(
        `error: --args must be a JSON array of the workflow's arguments, e.g. '["alice@example.com", 3]' (got {"n":1})`,
      );
    } finally {
      await queue.close();
    }
  });

  it("`workflow retry` runs a failed workflow again: one, --wait, --all-failed; usage errors", async () => {
    const queue = new Queue(url, { name: "cli" });
    try {
      // A failed workflow runs again from its failed step.
      const flow = await queue.addWorkflow(flakyFlow(randomUUID()));
      const failed = await queue.waitForWorkflow(flow, { timeout: 20 });
      expect(failed.status).toBe("failed");
      const retried = await sheppy("workflow", "retry", flow.id);
      expect(retried.stdout).toMatch(
        new RegExp(
          `^retried: ${flow.id} \\(a worker replays it, asking again for step 0 cli\\.flaky\\)\n$`,
        ),
      );
      const ran = await queue.waitForWorkflow(flow, { timeout: 20 });
      expect([ran.status, ran.result]).toEqual(["completed", `${flow.args[0]} ok on run 2`]);
      expect(expectOneLineError(await sheppy("workflow", "retry", flow.id), 1)).toBe(
        `error: Cannot retry workflow ${flow.id}: only a failed workflow is retried, and it completed; add it anew to run it again`,
      );
    } finally {
      await queue.close();
    }
  });

  it("`workflow retry --all-failed` runs every failed workflow of a name again; usage errors", async () => {
    const queue = new Queue(url, { name: "cli" });
    try {
      // After an outage: every failed workflow of a name at once.
      const outage = [
        await queue.addWorkflow(flakyFlow(randomUUID())),
        await queue.addWorkflow(flakyFlow(randomUUID())),
      ];
      expect((await queue.waitForWorkflow(outage, { timeout: 20 })).map((w) => w.status)).toEqual([
        "failed",
        "failed",
      ]);
      expect(
        await sheppy("workflow", "retry", "--all-failed", "-n", "cli.flaky-flow", "--since", "1h"),
      ).toMatchObject({ code: 0, stdout: "2 failed workflows cli.flaky-flow running again\n" });
      const recovered = await queue.waitForWorkflow(outage, { timeout: 20 });
      expect(recovered.map((w) => [w.status, w.retryCount])).toEqual([
        ["completed", 1],
        ["completed", 1],
      ]);
      // --wait prints the result once it has ended again.
      const waited = await queue.addWorkflow(flakyFlow(randomUUID()));
      expect((await queue.waitForWorkflow(waited, { timeout: 20 })).status).toBe("failed");
      const result = await sheppy("workflow", "retry", waited.id, "--wait", "--timeout", "20s");
      expect(result).toMatchObject({ code: 0 });
      expect(result.stdout).toContain(`${waited.args[0]} ok on run 2`);
      expect(expectOneLineError(await sheppy("workflow", "retry"), 2)).toBe(
        "error: pass a workflow id, or --all-failed",
      );
      expect(
        expectOneLineError(await sheppy("workflow", "retry", outage[0]!.id, "--all-failed"), 2),
      ).toBe("error: pass a workflow id or --all-failed, not both");
      expect(
        expectOneLineError(await sheppy("workflow", "retry", outage[0]!.id, "--since", "1h"), 2),
      ).toBe("error: --since needs --all-failed");
    } finally {
      await queue.close();
    }
  });

  it("`queue list` shows the queue with its counts", async () => {
    const queues = json<{ queue: string; completed: number; failed: number }[]>(
      await sheppy("queue", "list", "--format", "json"),
    );
    const cli = queues.find((q) => q.queue === "cli");
    expect(cli?.completed).toBeGreaterThanOrEqual(2);
    expect(cli?.failed).toBeGreaterThanOrEqual(1);
  });

  it("`cron list` shows a cron added in code, with its next run", async () => {
    const queue = new Queue(url, { name: "cli-crons" });
    try {
      expect(await queue.addCron(add(1, 2), "*/5 * * * *")).toBe(true);
    } finally {
      await queue.close();
    }
    const crons = json<{ name: string; expression: string; args: unknown[]; nextRunAt: string }[]>(
      await sheppy("cron", "list", "-q", "cli-crons", "--format", "json"),
    );
    expect(crons).toHaveLength(1);
    expect(crons[0]).toMatchObject({ name: "cli.add", expression: "*/5 * * * *", args: [1, 2] });
    expect(new Date(crons[0]!.nextRunAt).getUTCMinutes() % 5).toBe(0);

    const table = await sheppy("cron", "list", "-q", "cli-crons");
    expect(table.stdout).toMatch(/\*\/5 \* \* \* \*\s+cli\.add\s+\[1,2\]/);
  });
});
