/**
 * SQLite survives the process that wrote it: a producer process adds 1,000
 * tasks to a database file and exits (after `close()`, or SIGKILLed as soon
 * as its last add was acknowledged); then a new worker process runs them all —
 * every one completed, none lost, none run twice. Executions are recorded in
 * a file beside the database.
 */
import type { ChildProcess } from "node:child_process";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { executionsKey, recordReader } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const key = fileKey(import.meta.url);
const TASKS = 1000;

describe("sqlite: tasks added by one process, run by the next", () => {
  const dir = sqliteTestDir(key);
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    dir.remove();
  });

  for (const ending of ["exits after close()", "is SIGKILLed after its last add"] as const) {
    it(`the producer ${ending}; a new process runs all ${TASKS}, each once`, async () => {
      const killed = ending.includes("SIGKILL");
      const name = killed ? "killed.db" : "closed.db";
      const prefix = `${key}-${killed ? "killed" : "closed"}`;
      const url = dir.url(name);

      const producer = spawnTs("test/fixtures/sqlite-adder.ts", {
        TEST_SQLITE_URL: url,
        TEST_QUEUE: "restart",
        TEST_COUNT: String(TASKS),
        TEST_BATCH: "100",
        TEST_RECORDER_URL: dir.recorderUrl,
        TEST_PREFIX: prefix,
        ...(killed ? { TEST_HANG: "1" } : {}),
      });
      children.push(producer);
      let output = "";
      producer.stdout?.on("data", (chunk: string) => {
        output += chunk;
      });
      producer.stderr?.on("data", (chunk: string) => {
        output += chunk;
      });
      if (killed) {
        await waitForOutput(producer, "added ", 60_000);
        // Killed at once, never closed: the adds were acknowledged, so they must already be on disk.
        producer.kill("SIGKILL");
      }
      expect(await exited(producer), output).toBe(killed ? "SIGKILL" : 0);

      // This process only reads: which tasks the file holds, before any worker exists.
      const queue = new Queue(url, { name: "restart" });
      const pending = await queue.getPending(TASKS + 1);
      expect(pending).toHaveLength(TASKS);
      expect(pending.map((t) => t.args[2]).sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: TASKS }, (_, i) => i),
      );

      const worker = spawnTs("test/fixtures/crash-worker.ts", {
        TEST_SQLITE_URL: url,
        TEST_QUEUE: "restart",
        TEST_CONCURRENCY: "20",
      });
      children.push(worker);
      await waitForOutput(worker, "ready");
      const finished = await queue.waitFor(pending, { timeout: 60 });
      const notCompleted = finished.filter((t) => t.status !== "completed");
      expect(notCompleted.map((t) => `${t.id} ${t.status}: ${t.error?.message}`)).toEqual([]);
      expect(finished.map((t) => t.result)).toEqual(pending.map((t) => t.args[2]));
      expect(await queue.size()).toBe(0);

      const recorder = recordReader(dir.recorderUrl);
      const runs = await recorder.read(executionsKey(prefix));
      recorder.close();
      const ids = runs.map((run) => run.split(":")[0]);
      expect(runs).toHaveLength(TASKS);
      expect(new Set(ids).size).toBe(TASKS);
      expect(new Set(ids)).toEqual(new Set(pending.map((t) => t.id)));
      // Every run was the new worker's.
      expect(runs.every((run) => run.endsWith(`:${worker.pid}`))).toBe(true);

      worker.kill("SIGTERM");
      expect(await exited(worker)).toBe(0);
      await queue.close();
    });
  }
});
