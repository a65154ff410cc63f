/**
 * The event log on a SQLite file across processes: two worker processes run
 * 60 tasks while a listener here reads the queue's log (woken by the change
 * check, as other processes' writes come); each task's added, started and
 * completed arrive once each, in order, and a reader resuming after an id
 * reads the rest. With eventCap 20 the file keeps at most 20 rows of the
 * queue. A waiting read ends at disconnect.
 */
import type { ChildProcess } from "node:child_process";
import Database from "better-sqlite3";
import { Queue } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { readUntil, runInProcesses, typesByTask } from "../../support/event-log-processes.js";
import { fileKey } from "../../support/isolation.js";
import { exited } from "../../support/processes.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const files = sqliteTestDir(fileKey(import.meta.url));
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await Promise.all(children.map((child) => exited(child)));
  files.remove();
});

const TASKS = 60;

describe("sqlite: the event log across processes", () => {
  it(`2 worker processes run ${TASKS} tasks: every task's added, started, completed arrive once each, in order; a reader resuming after an id reads the rest`, async () => {
    const path = files.path("events.db");
    const queue = new Queue(new SqliteBackend({ path }), { name: "events-all" });
    await queue.connect();
    const env = { TEST_BACKEND: "sqlite", TEST_SQLITE_PATH: path };
    const run = await runInProcesses(queue, TASKS, 2, env, children);
    try {
      const all = TASKS * 3;
      const entries = await readUntil(
        queue.backend,
        queue.name,
        null,
        25,
        (read) => read.length >= all,
        60_000,
      );
      expect(entries, run.output()).toHaveLength(all);
      const byTask = typesByTask(entries);
      expect([...byTask.keys()].sort()).toEqual([...run.tasks].sort());
      for (const id of run.tasks) {
        expect(byTask.get(id), id).toEqual(["added", "started", "completed"]);
      }
      const middle = entries[TASKS]!.id;
      const resumer = new SqliteBackend({ path });
      await resumer.connect();
      try {
        expect(await resumer.readEvents(queue.name, { after: middle, limit: all })).toEqual(
          entries.slice(TASKS + 1),
        );
      } finally {
        await resumer.disconnect();
      }
      expect(await run.stop(), run.output()).toEqual([0, 0]);
    } finally {
      await queue.close();
    }
  });

  it(`with eventCap 20, the file keeps at most 20 rows of the queue's events once ${TASKS} tasks ran in 2 processes`, async () => {
    const path = files.path("capped.db");
    const queue = new Queue(new SqliteBackend({ path, eventCap: 20 }), { name: "events-capped" });
    await queue.connect();
    const env = { TEST_BACKEND: "sqlite", TEST_SQLITE_PATH: path, TEST_EVENT_CAP: "20" };
    const run = await runInProcesses(queue, TASKS, 2, env, children);
    try {
      const done = await queue.waitFor(run.tasks, { timeout: 60 });
      expect(
        done.filter((t) => t.status !== "completed"),
        run.output(),
      ).toEqual([]);
      expect(await run.stop(), run.output()).toEqual([0, 0]);
      const db = new Database(path, { readonly: true });
      try {
        const { n } = db
          .prepare("SELECT count(*) AS n FROM events WHERE queue = ?")
          .get(queue.name) as { n: number };
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThanOrEqual(20);
      } finally {
        db.close();
      }
    } finally {
      await queue.close();
    }
  });

  it("disconnect() ends a waiting read at once with nothing", async () => {
    const reader = new SqliteBackend({ path: files.path("idle.db") });
    await reader.connect();
    const started = Date.now();
    const waiting = reader.readEvents("idle", { after: null, limit: 10, waitMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await reader.disconnect();
    expect(await waiting).toEqual([]);
    // Far sooner than the read's own minute.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
