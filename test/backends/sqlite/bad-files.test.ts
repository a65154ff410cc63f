/**
 * Paths SQLite cannot use as Sheppy's database are refused at connect with
 * one line that names the file and says what is wrong: a directory, a
 * missing directory, a file that is not a database, a file this process
 * may only read (found at connect, not at the first claim).
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { BackendError, Queue, task, Worker } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../support/cli.js";
import { fileKey } from "../../support/isolation.js";
import { recordingLogger } from "../../support/recording-logger.js";
import { sqliteTestDir } from "../../support/sqlite.js";
import { until } from "../../support/until.js";

const files = sqliteTestDir(fileKey(import.meta.url));
const job = task({ name: "sqlite-bad-files.job" }, (n: number) => n);
afterAll(() => files.remove());

async function connectError(path: string): Promise<Error> {
  const error = await new SqliteBackend({ path }).connect().then(
    () => {
      throw new Error(`connect to ${path} succeeded`);
    },
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(BackendError);
  expect(error.message).not.toContain("\n");
  return error;
}

const isRoot = process.getuid?.() === 0;

/** Connects a backend on `path` as the user `nobody`; prints "connected" or the error's message. */
function connectAsNobody(path: string) {
  const script = `
    const { SqliteBackend } = await import(${JSON.stringify(join(ROOT, "src/backends/sqlite/index.ts"))});
    try { await new SqliteBackend({ path: ${JSON.stringify(path)} }).connect(); console.log("connected"); }
    catch (error) { console.log(error.message); }`;
  return spawnSync(
    "runuser",
    [
      "-u",
      "nobody",
      "--",
      process.execPath,
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      script,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
}

describe("sqlite: paths that cannot be Sheppy's database", () => {
  it("a directory, a missing directory, and a file that is not a database", async () => {
    const dir = files.path("a-directory.db");
    mkdirSync(dir);
    expect((await connectError(dir)).message).toBe(
      `sqlite://: ${dir} is a directory, not a database file: name a file in it`,
    );
    const missing = join(files.dir, "nowhere", "tasks.db");
    expect((await connectError(missing)).message).toBe(
      `sqlite://: cannot create ${missing}: its directory ${join(files.dir, "nowhere")} does not exist (create it first)`,
    );
    const text = files.path("notes.db");
    writeFileSync(text, "these are notes, not a database\n".repeat(100));
    expect((await connectError(text)).message).toBe(
      `connect: ${text} is not an SQLite database (or is encrypted): name the file Sheppy keeps its tasks in, or a new one (SQLITE_NOTADB: file is not a database)`,
    );
    // A path as a shell would write it: a URL does not expand ~.
    expect((await connectError("~/sheppy-trial-nowhere/tasks.db")).message).toBe(
      "sqlite://: cannot create ~/sheppy-trial-nowhere/tasks.db: its directory ~/sheppy-trial-nowhere does not exist (create it first); a ~ is not your home directory in a URL: give the whole path (sqlite:///home/you/tasks.db)",
    );
    // sqlite://tmp/x.db, the two-slash slip for /tmp/x.db: a relative path, said so.
    expect((await connectError("sheppy-trial-nowhere/tasks.db")).message).toBe(
      `sqlite://: cannot create sheppy-trial-nowhere/tasks.db: its directory sheppy-trial-nowhere does not exist (create it first); a relative path is read from the working directory (${process.cwd()}), and an absolute one takes three slashes: sqlite:///sheppy-trial-nowhere/tasks.db`,
    );
    expect((await connectError("./sheppy-trial-nowhere/tasks.db")).message).toBe(
      `sqlite://: cannot create ./sheppy-trial-nowhere/tasks.db: its directory ./sheppy-trial-nowhere does not exist (create it first); a relative path is read from the working directory (${process.cwd()})`,
    );
  });

  it("a file deleted or replaced while open: writes fail, saying so, instead of going to a file that is gone", async () => {
    for (const replaced of [false, true]) {
      const path = files.path(replaced ? "replaced.db" : "deleted.db");
      const queue = new Queue(new SqliteBackend({ path }), { name: "q" });
      await queue.add(job(1));
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
      if (replaced) writeFileSync(path, "");
      // Looked at once a second: within it, a write may still go to the old file.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const refused = queue.add(job(2)).then(
        () => "added",
        (error: unknown) => error as Error,
      );
      const error = await refused;
      expect(error).toBeInstanceOf(BackendError);
      expect((error as Error).message).toBe(
        `add: the SQLite file ${path} was ${replaced ? "replaced by another file" : "deleted"} while this process had it open; nothing more is written, as it would be lost when the process closes it: stop every process using it, delete ${path}-wal and ${path}-shm (they belong to the old file, and a process that opens the new one beside them damages it), then start them again`,
      );
      // And every write after it, with no second look needed.
      await expect(queue.add(job(3))).rejects.toThrow(/while this process had it open/);
      await queue.close();
    }
  });

  it("a worker whose file was deleted under it reports itself failing (its claims fail), not ok while the tasks wait in the new file", async () => {
    const path = files.path("deleted-under-worker.db");
    const queue = new Queue(new SqliteBackend({ path }), { name: "q" });
    const worker = new Worker(queue, { handleSignals: false, logger: recordingLogger().logger });
    const running = worker.work();
    try {
      await until(() => worker.health().status === "ok", { what: "worker ok" });
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
      // A producer makes the file anew and adds a task there.
      const producer = new Queue(new SqliteBackend({ path }), { name: "q" });
      await producer.add(job(7));
      await producer.close();
      const claims = await until(
        () => worker.health().problems.find((problem) => problem.what === "claim"),
        { what: "claims failing", timeoutMs: 10_000 },
      );
      expect(worker.health().status).toBe("failing");
      expect(claims.queue).toBe("q");
      // Made anew by the producer: replaced, or deleted when looked at before it was.
      expect(claims.error).toMatch(
        /was (deleted|replaced by another file) while this process had it open/,
      );
      // Reads fail too, rather than answer what the lost file held.
      await expect(queue.getTask(job(1).id)).rejects.toThrow(/while this process had it open/);
    } finally {
      await worker.close();
      await running;
      await queue.close();
    }
  });

  it("a damaged file is said to be damaged, with what to do, in one line", async () => {
    const path = files.path("damaged.db");
    const backend = new SqliteBackend({ path });
    await backend.connect();
    const record = { ...job(1).toJSON(), status: "pending" as const };
    await backend.add(
      "q",
      Array.from({ length: 2000 }, (_, i) => ({ ...record, id: `t-${i}` })),
    );
    await backend.disconnect();
    const size = statSync(path).size;
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(size - 8192, 0xab), 0, size - 8192, 8192);
    closeSync(fd);
    expect((await connectError(path)).message).toBe(
      `connect: the SQLite file ${path} is damaged: restore it from a backup (sqlite3 <file> 'PRAGMA integrity_check' tells what is damaged) (SQLITE_CORRUPT: database disk image is malformed)`,
    );
  });

  it("a database of another application's tables, or with a migrations table of its own, is refused and left as it is", async () => {
    const appDb = files.path("app.db");
    const app = new Database(appDb);
    app.exec("CREATE TABLE tasks (title TEXT); INSERT INTO tasks VALUES ('mine')");
    app.exec("CREATE TABLE users (name TEXT)");
    app.close();
    expect((await connectError(appDb)).message).toBe(
      `sqlite://: ${appDb} holds another application's tables (tasks, users) and none of Sheppy's: give Sheppy a database file of its own`,
    );
    const migrated = files.path("migrated.db");
    const other = new Database(migrated);
    other.exec("CREATE TABLE migrations (id INTEGER, step TEXT)");
    other.close();
    expect((await connectError(migrated)).message).toBe(
      `sqlite://: ${migrated} has a table named migrations that is not Sheppy's (its columns: id, step): it belongs to another application; give Sheppy a database file of its own`,
    );
    // Nothing was written to either.
    const check = new Database(appDb, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master ORDER BY name").all()).toEqual([
      { name: "tasks" },
      { name: "users" },
    ]);
    expect(check.prepare("SELECT title FROM tasks").all()).toEqual([{ title: "mine" }]);
    check.close();
  });

  // Needs another user to open the file as: root runs the check as `nobody` (CI runs as root).
  it.skipIf(!isRoot)(
    "a file this process may only read is refused at connect, naming it",
    async () => {
      const path = files.path("read-only.db");
      const backend = new SqliteBackend({ path });
      await backend.connect();
      await backend.disconnect();
      chmodSync(files.dir, 0o755);
      chmodSync(path, 0o444);
      const run = connectAsNobody(path);
      // SQLITE_READONLY, or SQLITE_READONLY_DIRECTORY when SQLite finds the -shm file unwritable first.
      const code = /SQLITE_READONLY_DIRECTORY/.test(run.stdout)
        ? "SQLITE_READONLY_DIRECTORY"
        : "SQLITE_READONLY";
      expect(run.stdout.trim(), run.stderr).toBe(
        `sqlite://: ${path} can only be read by this process (${code}: attempt to write a readonly database): Sheppy needs to write the file and its directory`,
      );
    },
    // A child process that compiles the source with tsx: seconds on a loaded machine.
    60_000,
  );

  // A read-only mount needs root's mount(8): skipped elsewhere, as the checks above are.
  it.skipIf(!isRoot)(
    "a file on a read-only file system is refused at connect as one this process may only read",
    async () => {
      const dir = files.path("read-only-mount");
      mkdirSync(dir);
      const path = join(dir, "tasks.db");
      const backend = new SqliteBackend({ path });
      await backend.connect();
      await backend.disconnect();
      const mount = (...args: string[]) => spawnSync("mount", args, { encoding: "utf8" });
      const bound = mount("--bind", dir, dir);
      expect(bound.status, bound.stderr).toBe(0);
      try {
        const remounted = mount("-o", "remount,bind,ro", dir);
        expect(remounted.status, remounted.stderr).toBe(0);
        const error = await new SqliteBackend({ path }).connect().then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(error).toBeInstanceOf(BackendError);
        expect(error?.message).toMatch(
          new RegExp(
            `^sqlite://: ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} can only be read by this process \\(SQLITE_(CANTOPEN|READONLY)[A-Z_]*: .*\\): Sheppy needs to write the file and its directory$`,
          ),
        );
      } finally {
        spawnSync("umount", [dir]);
      }
    },
  );

  it.skipIf(!isRoot)(
    "a new file in a directory this process may not write to is refused at connect, naming the directory",
    async () => {
      chmodSync(files.dir, 0o755);
      const dir = files.path("read-only-dir");
      mkdirSync(dir, { mode: 0o555 });
      chmodSync(dir, 0o555);
      const path = join(dir, "new.db");
      const run = connectAsNobody(path);
      expect(run.stdout.trim(), run.stderr).toBe(
        `sqlite://: cannot create ${path}: its directory ${dir} is not writable by this user (SQLite also writes the -wal and -shm files beside it)`,
      );
    },
    60_000,
  );
});
