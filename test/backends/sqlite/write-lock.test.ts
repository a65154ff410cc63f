/**
 * Another connection holding the file's write lock: a call waits for it on
 * timers (the event loop keeps running), goes through once it is released,
 * and gives up with BackendUnavailableError after busyTimeout, having
 * written nothing. A claim that waited is stamped when it got the lock.
 */
import Database from "better-sqlite3";
import { BackendUnavailableError, Queue, task } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { TestClock } from "sheppy/testing";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const files = sqliteTestDir(fileKey(import.meta.url));
afterAll(() => files.remove());

const job = task({ name: "sqlite.write-lock-job" }, (n: number) => n);

/** Holds the write lock of `path` from another connection until the returned function is called. */
function holdWriteLock(path: string): () => void {
  const other = new Database(path);
  other.exec("BEGIN IMMEDIATE");
  other.prepare("UPDATE counters SET value = value WHERE name = 'task_seq'").run();
  return () => {
    other.exec("COMMIT");
    other.close();
  };
}

describe("sqlite: a write lock held by another connection", () => {
  it("an add waits without blocking the event loop and goes through once the lock is released", async () => {
    const path = files.path("wait.db");
    const queue = new Queue(new SqliteBackend({ path }), { name: "locked" });
    await queue.backend.connect();
    const release = holdWriteLock(path);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const adding = queue.add(job(1));
    let added = false;
    void adding.then(() => {
      added = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(added).toBe(false);
    // The loop ran its timers while the add waited for the lock: a loop blocked for the whole wait
    // runs none; a loaded machine (the whole suite on two cores) runs a few of the 60 it could.
    expect(ticks).toBeGreaterThanOrEqual(2);
    release();
    await adding;
    clearInterval(ticker);
    expect(await queue.size()).toBe(1);
    await queue.close();
  });

  it("gives up after busyTimeout with a one-line BackendUnavailableError naming the file, having stored nothing", async () => {
    const path = files.path("give-up.db");
    const queue = new Queue(new SqliteBackend({ path, busyTimeout: 200 }), { name: "locked" });
    await queue.backend.connect();
    const release = holdWriteLock(path);
    const error = await queue.add(job(1)).catch((e: unknown) => e);
    release();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(
      /^add: the SQLite file .*give-up\.db stayed locked by another connection for 200 ms$/,
    );
    expect(await queue.size()).toBe(0);
    await queue.close();
  });

  it("a process connecting while another connection holds the lock connects at once, and reads without waiting", async () => {
    const path = files.path("connect.db");
    const first = new Queue(new SqliteBackend({ path }), { name: "locked" });
    await first.add(job(1));
    await first.close();
    const release = holdWriteLock(path);
    try {
      // busyTimeout longer than the test's own: waiting for the lock at connect would time it out.
      const queue = new Queue(new SqliteBackend({ path, busyTimeout: 60_000, create: false }), {
        name: "locked",
      });
      await queue.backend.connect();
      expect(await queue.size()).toBe(1);
      await queue.close();
    } finally {
      release();
    }
  }, 10_000);

  it("a claim that waits for the lock stamps its start once it holds it, not when it asked", async () => {
    const path = files.path("stamp.db");
    const start = Date.UTC(2030, 0, 1);
    const clock = new TestClock(start);
    const backend = new SqliteBackend({ path, clock });
    const queue = new Queue(backend, { name: "stamp" });
    await backend.connect();
    try {
      await queue.add(job(1));
      const release = holdWriteLock(path);
      const claiming = backend.claim("stamp", 1, 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Meanwhile another process may have made this very task due: time moved on.
      await clock.advance(5);
      release();
      const [claimed] = await claiming;
      expect(claimed?.record.startedAt).toBe(new Date(start + 5000).toISOString());
      expect((await queue.getTask(claimed!.record.id))?.startedAt?.getTime()).toBe(start + 5000);
    } finally {
      await backend.disconnect();
    }
  });
});
