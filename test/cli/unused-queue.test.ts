/**
 * A queue name nothing has used is most often a typo. Listings of it would
 * print nothing at all, so every command that reads one queue says on stderr
 * that it holds nothing and which queues the backend knows — never on
 * stdout, so tables and JSON stay as they are. A queue that holds something
 * gets no warning.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, SqliteBackend } from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unusedQueueWarning } from "../../src/cli/open-queue.js";
import { add } from "../fixtures/cli/tasks.js";
import { json, runCli, TASKS, WorkerProcess } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-unused-queue-"));
const url = `sqlite://${join(dir, "queue.db")}`;
// `reports` holds only a cron: it is named too.
const WARNING =
  "warning: queue emials holds no tasks or crons: did you mean 'emails'? (queues this backend knows: emails, reports)\n";

describe("sheppy commands on a queue that holds nothing", () => {
  const env = { SHEPPY_BACKEND_URL: url };
  const sheppy = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    const emails = new Queue(url, { name: "emails" });
    await emails.add(add(1, 2));
    await emails.close();
    const reports = new Queue(url, { name: "reports" });
    await reports.addCron(add(2, 3), "0 9 * * *");
    await reports.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("task list and cron list say so on stderr and print their empty output as before", async () => {
    expect(await sheppy("task", "list", "-q", "emials")).toMatchObject({
      code: 0,
      stdout: "no tasks\n",
      stderr: WARNING,
    });
    const listed = await sheppy("task", "list", "-q", "emials", "--format", "json");
    expect(json(listed)).toEqual([]);
    expect(listed.stderr).toBe(WARNING);
    expect(await sheppy("cron", "list", "-q", "emials")).toMatchObject({
      code: 0,
      stdout: "no crons\n",
      stderr: WARNING,
    });
  });

  it("--log-level error (or its variable) holds the warning back; warning keeps it", async () => {
    expect(await sheppy("--log-level", "error", "task", "list", "-q", "emials")).toMatchObject({
      code: 0,
      stdout: "no tasks\n",
      stderr: "",
    });
    const quiet = await runCli(["task", "list", "-q", "emials"], {
      ...env,
      SHEPPY_LOG_LEVEL: "error",
    });
    expect(quiet.stderr).toBe("");
    expect((await sheppy("task", "list", "-q", "emials", "--log-level", "warning")).stderr).toBe(
      WARNING,
    );
  });

  it("pino's other levels are taken: fatal and silent hold the warning back, trace keeps it", async () => {
    for (const level of ["fatal", "silent"]) {
      expect(await sheppy("task", "list", "-q", "emials", "--log-level", level)).toMatchObject({
        code: 0,
        stdout: "no tasks\n",
        stderr: "",
      });
    }
    expect((await sheppy("task", "list", "-q", "emials", "--log-level", "trace")).stderr).toBe(
      WARNING,
    );
  });

  it("a queue that holds something, or only a cron, gets no warning, even when a filter leaves nothing to show", async () => {
    const failedOnly = await sheppy("task", "list", "-q", "emails", "--status", "failed");
    expect(failedOnly).toMatchObject({ code: 0, stdout: "no tasks\n", stderr: "" });
    expect((await sheppy("task", "list", "-q", "reports")).stderr).toBe("");
    expect((await sheppy("cron", "list", "-q", "emails")).stderr).toBe("");
  });

  it("metrics warns for each named queue that holds nothing and still prints the exposition", async () => {
    const result = await sheppy("metrics", "-q", "emails,emials");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sheppy_queue_tasks\{queue="emails",status="pending"\} 1/);
    expect(result.stderr).toBe(WARNING);
  });

  it("sheppy work logs the warning for a queue it serves whose name looks misspelt, once, and works on", async () => {
    // `invoices` holds nothing too, but looks like no queue in use: idle, not mistyped.
    const worker = new WorkerProcess(["--tasks", TASKS, "-q", "emials,emails,invoices"], env);
    try {
      const warned = await worker.waitFor((r) => r.msg.startsWith("queue emials"), "warning");
      expect(warned).toMatchObject({
        level: 40,
        msg: "queue emials holds no tasks or crons: did you mean 'emails'? (waiting for tasks all the same; queues this backend knows: emails, reports)",
      });
      // The other queue's task still runs.
      await worker.waitFor((r) => r.msg === "task completed", "emails' task completed");
    } finally {
      worker.signal("SIGTERM");
      await worker.exited;
    }
    expect(worker.records.filter((r) => r.msg.includes("holds no tasks"))).toHaveLength(1);
  });

  it("a worker warns only of names one or two letters off a queue in use", async () => {
    const fresh = new SqliteBackend({ path: join(dir, "fresh.db") });
    await fresh.connect();
    try {
      const worker = (queue: string) => unusedQueueWarning(fresh, queue, undefined, true);
      // On a new backend every queue is empty: nothing looks mistyped.
      expect(await worker("emails")).toBeUndefined();
      // Other commands say it all the same: a listing of a queue nothing has used prints nothing.
      expect(await unusedQueueWarning(fresh, "emails")).toBe(
        "queue emails holds no tasks or crons: is the name right?",
      );
      await new Queue(fresh, { name: "reports" }).add(add(1, 1));
      expect(await worker("reprots")).toBe(
        "queue reprots holds no tasks or crons: did you mean 'reports'? (queues this backend knows: reports)",
      );
      expect(await worker("emails")).toBeUndefined();
      expect(await worker("reports")).toBeUndefined();
    } finally {
      await fresh.disconnect();
    }
  });
});
