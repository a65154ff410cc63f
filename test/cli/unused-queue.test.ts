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
import { Queue } from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { add } from "../fixtures/cli/tasks.js";
import { json, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-unused-queue-"));
const url = `sqlite://${join(dir, "queue.db")}`;
// `reports` holds only a cron: it is named too.
const WARNING =
  "warning: queue emials holds no tasks or crons: is the name right? (queues this backend knows: emails, reports)\n";

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
});
