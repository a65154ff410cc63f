/**
 * SQLite: three worker processes share one database file holding a queue of
 * 3,000 tasks; one is SIGKILLed mid-run. Every task must end completed, none
 * may be missing, and only tasks the killed worker held may have run twice.
 * Executions are recorded in a file beside the database, so no server is needed.
 */
import type { ChildProcess } from "node:child_process";
import { Queue } from "sheppy";
import { afterAll, describe, it } from "vitest";
import { recordedWork } from "../../fixtures/crash-tasks.js";
import { killOneWorkerMidRun } from "../../support/crash-run.js";
import { fileKey } from "../../support/isolation.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const key = fileKey(import.meta.url);
const TASKS = 3000;

describe("sqlite: a worker process killed mid-run", () => {
  const dir = sqliteTestDir(key);
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    dir.remove();
  });

  it("3 workers on one file, one SIGKILLed; every task completes, none is lost, only the victim's ran twice", async () => {
    const url = dir.url("queue.db");
    const queue = new Queue(url, { name: "crash" });
    const tasks = Array.from({ length: TASKS }, (_, i) =>
      recordedWork(dir.recorderUrl, key, i, 20),
    );
    for (let i = 0; i < TASKS; i += 500) await queue.add(tasks.slice(i, i + 500));
    await killOneWorkerMidRun({
      queue,
      tasks,
      recorderUrl: dir.recorderUrl,
      prefix: key,
      env: { TEST_SQLITE_URL: url, TEST_QUEUE: "crash", TEST_CONCURRENCY: "10" },
      children,
    });
    await queue.close();
  });
});
