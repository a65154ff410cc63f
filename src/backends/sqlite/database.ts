/**
 * @module backends/sqlite/database
 * One connection to the database file (better-sqlite3, loaded when the
 * backend connects), its settings, its cached statements, and the two ways
 * calls use it:
 * - `write`: a `BEGIN IMMEDIATE` transaction, so the call holds the file's
 *   one write lock from its first read on — every read-decide-write in it is
 *   atomic with respect to every other process sharing the file. While
 *   another process holds the lock, the driver waits a few milliseconds
 *   (`busy_timeout`), then the call waits on a timer and tries again, up to
 *   `busyTimeoutMs` in all: a long wait never blocks the event loop.
 * - `read`: plain statements; in WAL mode readers never wait for the writer.
 *
 * The driver is synchronous: each call runs to its end without yielding, so
 * calls of one process never interleave inside a transaction.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import {
  BackendError,
  BackendFullError,
  BackendUnavailableError,
  SchemaVersionError,
} from "../../errors.js";
import { bundleOf } from "../../util/own-location.js";
import { notConnectedError } from "../not-connected.js";
import { MIGRATION_FILES } from "./migration-files.embedded.js";

/**
 * What Sheppy uses of a better-sqlite3 statement and connection, declared
 * here so that applications that never use SQLite need neither the package
 * nor its types to type-check Sheppy's declarations.
 */
export interface Statement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface Db {
  prepare(sql: string): Statement;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(sql: string): unknown;
  transaction<T>(fn: () => T): { immediate(): T };
  close(): void;
}

type Driver = new (path: string, options?: { fileMustExist?: boolean }) => Db;

/** How commits reach the disk: `normal` (default) syncs at checkpoints, `full` at every commit. */
export type Synchronous = "normal" | "full";

/** The name of the in-memory database, as SQLite spells it. */
export const IN_MEMORY = ":memory:";

/** What the driver waits for the write lock itself before a call waits on a timer instead. */
const DRIVER_BUSY_MS = 10;
/** Bytes the WAL file is cut back to after a checkpoint. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** How often, at most, a write looks whether the file it writes to is still there (ms). */
const FILE_CHECK_MS = 1000;

/** Timer waits between tries for the write lock: from the first to the last, doubling. */
const RETRY_FIRST_MS = 1;
const RETRY_LAST_MS = 50;

export interface DatabaseOptions {
  readonly path: string;
  readonly synchronous: Synchronous;
  /** How long a call keeps trying for the write lock before it fails with `BackendUnavailableError`. */
  readonly busyTimeoutMs: number;
  /** Whether opening creates a missing file, Sheppy's tables in a file without them, and migrates an earlier Sheppy's file. */
  readonly create: boolean;
}

const codeOf = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? "");

const isBusy = (error: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(codeOf(error));

/** A driver error as one of Sheppy's, naming the call and the file (never the whole SQL). */
function backendErrorOf(call: string, error: unknown, path?: string): Error {
  if (error instanceof BackendError) return error;
  const code = codeOf(error);
  const reason = error instanceof Error ? error.message : String(error);
  const file = path === undefined ? "" : ` on ${path}`;
  if (code === "SQLITE_FULL") {
    return new BackendFullError(`${call}: the SQLite disk or file is full${file} (${reason})`, {
      cause: error,
    });
  }
  if (!code.startsWith("SQLITE_")) return error as Error;
  // Said as what it means for the file, with what to do; the driver's words follow.
  if (code === "SQLITE_NOTADB") {
    return new BackendError(
      `${call}: ${path ?? "the file"} is not an SQLite database (or is encrypted): name the file Sheppy keeps its tasks in, or a new one (${code}: ${reason})`,
      { cause: error },
    );
  }
  if (code.startsWith("SQLITE_CORRUPT")) {
    return new BackendError(
      `${call}: the SQLite file ${path ?? ""} is damaged: restore it from a backup (sqlite3 <file> 'PRAGMA integrity_check' tells what is damaged) (${code}: ${reason})`,
      { cause: error },
    );
  }
  return new BackendError(`${call}: SQLite failed${file} (${code}: ${reason})`, { cause: error });
}

/** Refuses, with a message that says what to do, a path SQLite could not open as a database file. */
function checkPath(path: string, create: boolean): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) {
    throw new BackendError(
      `sqlite://: ${path} is a directory, not a database file: name a file in it`,
    );
  }
  const dir = dirname(path);
  if (!stat && !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    // A caller that only reads never creates the file: what is missing is the file itself.
    throw new BackendError(
      create
        ? `sqlite://: cannot create ${path}: its directory ${dir} does not exist (create it first)${pathHint(path)}`
        : `sqlite://: there is no database at ${path}: its directory ${dir} does not exist (the path is mistyped, or nothing has used it yet)${pathHint(path)}`,
    );
  }
  if (!stat && create && !writable(dir)) {
    throw new BackendError(
      `sqlite://: cannot create ${path}: its directory ${dir} is not writable by this user (SQLite also writes the -wal and -shm files beside it)`,
    );
  }
}

/**
 * For a path that starts with `~`: a shell's home, which a URL does not
 * expand. For a relative one: where it was looked for, and how an absolute
 * path is written (`sqlite://tmp/x.db` is the classic slip for `/tmp/x.db`).
 */
function pathHint(path: string): string {
  if (path === "~" || path.startsWith("~/"))
    return "; a ~ is not your home directory in a URL: give the whole path (sqlite:///home/you/tasks.db)";
  if (isAbsolute(path)) return "";
  const from = `; a relative path is read from the working directory (${process.cwd()})`;
  return path.startsWith(".")
    ? from
    : `${from}, and an absolute one takes three slashes: sqlite:///${path}`;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

let driver: Promise<Driver> | undefined;

/** better-sqlite3, loaded on first use; a clear one-line error when it is not installed. */
function loadDriver(): Promise<Driver> {
  // A specifier in a variable: the compiler then needs no types of the package.
  const name = "better-sqlite3";
  driver ??= import(name).then(
    (module) => (module as { default: Driver }).default,
    (error: unknown) => {
      driver = undefined;
      const code = codeOf(error);
      if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
        const bundle = bundleOf(import.meta.url as string | undefined, "backends/sqlite/database");
        // A bundler cannot follow an import whose specifier is in a variable: the package may be there.
        const bundled =
          bundle === null
            ? ""
            : ` (if it is installed: a bundler copied sheppy into ${bundle}, from where better-sqlite3 cannot be loaded; mark sheppy and better-sqlite3 external in the bundler's settings)`;
        throw new BackendError(
          `sqlite:// needs the better-sqlite3 package (version 12): npm install better-sqlite3@12${bundled}`,
          { cause: error },
        );
      }
      throw new BackendError(
        `sqlite://: better-sqlite3 could not be loaded (${(error as Error).message})`,
        { cause: error },
      );
    },
  );
  return driver;
}

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

let migrations: readonly Migration[] | undefined;

/** The migrations built into this code, in version order. */
function knownMigrations(): readonly Migration[] {
  if (migrations) return migrations;
  const found = Object.entries(MIGRATION_FILES)
    .flatMap(([file, sql]) => {
      const match = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) return [];
      return [{ version: Number(match[1]), name: match[2]!, sql }];
    })
    .sort((a, b) => a.version - b.version);
  found.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration files are not numbered 001, 002, …: ${m.name}`);
  });
  migrations = found;
  return found;
}

/** The newest version this code's migrations reach. */
export function latestSchemaVersion(): number {
  return knownMigrations().length;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SqliteDatabase {
  #db: Db | undefined;
  /** Closed since it last opened (a call then is told so, not to connect first). */
  #closed = false;
  #opening: Promise<void> | undefined;
  readonly #statements = new Map<string, Statement>();
  /** The file this connection opened (device and inode), to notice it deleted or replaced under it. */
  #opened: { readonly dev: number; readonly ino: number } | undefined;
  /** When the file was last checked to be the one opened (ms, monotonic). */
  #checkedAt = 0;
  /** Set once the file is found deleted or replaced: every later write fails with it. */
  #gone: BackendError | undefined;
  /** What the latest open migrated: the schema version it found (0: none) and the one it left; `null` when nothing. */
  migrated: { readonly from: number; readonly to: number } | null = null;

  constructor(readonly options: DatabaseOptions) {}

  get isConnected(): boolean {
    return this.#db !== undefined;
  }

  get isInMemory(): boolean {
    return this.options.path === IN_MEMORY;
  }

  /** Opens the file (creating it), sets it up and migrates it. Concurrent calls share one attempt. */
  connect(): Promise<void> {
    if (this.#db) return Promise.resolve();
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const Driver = await loadDriver();
    const { path } = this.options;
    const create = this.options.create || this.isInMemory;
    if (!this.isInMemory) checkPath(path, create);
    if (!create && !existsSync(path)) throw notCreated(path, "there is no such file");
    let db: Db;
    try {
      db = new Driver(path, { fileMustExist: !create });
    } catch (error) {
      throw new BackendError(`sqlite://: cannot open ${path} (${(error as Error).message})`, {
        cause: error,
      });
    }
    try {
      db.pragma(`busy_timeout = ${DRIVER_BUSY_MS}`);
      // Before anything is written to it (the journal mode included).
      if (!create && !holdsSheppyTables(db)) throw notCreated(path, "it holds no Sheppy tables");
      if (!this.isInMemory) await this.#retryBusy("connect", () => db.pragma("journal_mode = WAL"));
      db.pragma(`synchronous = ${this.options.synchronous.toUpperCase()}`);
      db.pragma("foreign_keys = ON");
      db.pragma("temp_store = MEMORY");
      // After a burst the WAL file shrinks back to this once checkpointed, instead of keeping its peak size.
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      const applied = await this.#retryBusy("connect", () => migrate(db, path, create));
      this.migrated = applied;
      // The tables then stand in the main file, not only in its write-ahead log: a log
      // lost later loses tasks, never the schema (which would otherwise be made anew, empty).
      if (applied !== null && !this.isInMemory) db.pragma("wal_checkpoint(PASSIVE)");
      // A file this process may only read opens and migrates (when current) without a
      // write: found out now rather than at the first claim, which would retry forever.
      await this.#retryBusy("connect", () => {
        try {
          probeWrite(db);
        } catch (error) {
          // Another connection writing shows the file in use, not this process barred from it: the
          // permissions of the file and its directory tell, and reads need not wait for the writer.
          if (isBusy(error) && !this.isInMemory && writable(path) && writable(dirname(path)))
            return;
          throw error;
        }
      });
    } catch (error) {
      db.close();
      const cause = error instanceof BackendError ? error.cause : error;
      if (codeOf(cause).startsWith("SQLITE_READONLY")) throw readOnly(path, cause);
      // A read-only file system: the file opens, but its write-ahead log cannot be made beside it.
      if (codeOf(cause) === "SQLITE_CANTOPEN" && !(writable(path) && writable(dirname(path))))
        throw readOnly(path, cause);
      throw backendErrorOf("connect", error, path);
    }
    this.#db = db;
    this.#closed = false;
    this.#gone = undefined;
    const opened = this.isInMemory ? undefined : statSync(path, { throwIfNoEntry: false });
    this.#opened = opened && { dev: opened.dev, ino: opened.ino };
    this.#checkedAt = performance.now();
  }

  /**
   * Fails when the file this connection opened was deleted or replaced since:
   * SQLite would go on writing to the deleted file, and all of it would be
   * lost when the process closes it. Looked at once a second at most.
   */
  #checkStillThere(call: string): void {
    if (this.#gone) throw this.#gone;
    if (this.#opened === undefined) return;
    const now = performance.now();
    if (now - this.#checkedAt < FILE_CHECK_MS) return;
    this.#checkedAt = now;
    const { path } = this.options;
    const found = statSync(path, { throwIfNoEntry: false });
    if (found && found.dev === this.#opened.dev && found.ino === this.#opened.ino) return;
    this.#gone = new BackendError(
      `${call}: the SQLite file ${path} was ${found ? "replaced by another file" : "deleted"} while this process had it open; nothing more is written, as it would be lost when the process closes it: stop every process using it, delete ${path}-wal and ${path}-shm (they belong to the old file, and a process that opens the new one beside them damages it), then start them again`,
    );
    throw this.#gone;
  }

  /** Closes the connection; later calls fail as not connected. Idempotent. */
  close(): void {
    const db = this.#db;
    if (db) this.#closed = true;
    this.#db = undefined;
    this.#statements.clear();
    db?.close();
  }

  assertConnected(): Db {
    if (!this.#db) throw notConnectedError("SqliteBackend", this.#closed);
    return this.#db;
  }

  /** The prepared statement of `sql`, prepared once per connection. */
  statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.assertConnected().prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one `BEGIN IMMEDIATE` transaction (see the module header); `call` names it in errors. */
  write<T>(call: string, fn: () => T): Promise<T> {
    return this.#retryBusy(call, () => {
      const db = this.assertConnected();
      this.#checkStillThere(call);
      return db.transaction(fn).immediate();
    });
  }

  /**
   * Runs reads; `call` names them in errors. A file deleted or replaced
   * fails them too: they would answer what the lost file held, and a worker
   * whose claims only read (nothing claimable there) would look healthy
   * while the tasks wait in the new file.
   */
  read<T>(call: string, fn: () => T): T {
    this.assertConnected();
    this.#checkStillThere(call);
    try {
      return fn();
    } catch (error) {
      throw backendErrorOf(call, error, this.options.path);
    }
  }

  /** A number that changes whenever another connection (of any process) commits to the file. */
  dataVersion(): number {
    return (this.statement("PRAGMA data_version").get() as { data_version: number }).data_version;
  }

  async #retryBusy<T>(call: string, attempt: () => T): Promise<T> {
    const deadline = Date.now() + this.options.busyTimeoutMs;
    let wait = RETRY_FIRST_MS;
    for (;;) {
      try {
        return attempt();
      } catch (error) {
        if (!isBusy(error)) throw backendErrorOf(call, error, this.options.path);
        if (Date.now() >= deadline) {
          throw new BackendUnavailableError(
            `${call}: the SQLite file ${this.options.path} stayed locked by another connection for ${this.options.busyTimeoutMs} ms`,
            { cause: error },
          );
        }
      }
      await sleep(wait);
      wait = Math.min(wait * 2, RETRY_LAST_MS);
    }
  }
}

/** Fails when the file cannot be written (a write statement that changes nothing, rolled back). */
function probeWrite(db: Db): void {
  db.transaction(() => db.prepare("UPDATE counters SET value = value WHERE 0").run()).immediate();
}

/** The error of a file this process may only read (or whose directory it may not write). */
function readOnly(path: string, error: unknown): BackendError {
  return new BackendError(
    `sqlite://: ${path} can only be read by this process (${codeOf(error)}: ${(error as Error).message}): Sheppy needs to write the file and its directory`,
    { cause: error },
  );
}

/** Whether the file has Sheppy's migrations table (a file Sheppy made, at any version). */
function holdsSheppyTables(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").get() !==
    undefined
  );
}

/** The error of a file opened not to be created that Sheppy has not made (see `create`). */
function notCreated(path: string, why: string): BackendError {
  const left = existsSync(path)
    ? "the path may be mistyped; it was left as it is (start a worker, or add a task, to make Sheppy's tables in it)"
    : "nothing has used it yet, or the path is mistyped; it was not created (start a worker, or add a task, to create it)";
  return new BackendError(`sqlite://: ${path} is not a Sheppy database (${why}): ${left}`);
}

/** Sheppy's own record of its migrations, as a file it made holds it. */
const MIGRATION_COLUMNS = ["version", "name", "applied_at"];

/**
 * Refuses a file another application's tables are in: Sheppy's first
 * migration would fail on a table of the same name, or — worse — write
 * beside that application's data. Nothing is written to it.
 */
function refuseForeignFile(db: Db, path: string): void {
  const tables = (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      )
      .all() as { name: string }[]
  ).map((row) => row.name);
  if (tables.includes("migrations")) {
    const columns = (
      db.prepare("SELECT name FROM pragma_table_info('migrations')").all() as { name: string }[]
    ).map((row) => row.name);
    if (MIGRATION_COLUMNS.every((column) => columns.includes(column))) return;
    throw new BackendError(
      `sqlite://: ${path} has a table named migrations that is not Sheppy's (its columns: ${columns.join(", ")}): it belongs to another application; give Sheppy a database file of its own`,
    );
  }
  if (tables.length > 0) {
    const shown = tables.slice(0, 5).join(", ") + (tables.length > 5 ? ", …" : "");
    throw new BackendError(
      `sqlite://: ${path} holds another application's tables (${shown}) and none of Sheppy's: give Sheppy a database file of its own`,
    );
  }
}

/**
 * Applies the migrations this file lacks, in one write transaction; refuses a
 * file migrated by a newer Sheppy, and, unless `change`, one an earlier
 * Sheppy left (a command that only looks must not migrate it under that
 * version's workers, which would then refuse it).
 */
function migrate(
  db: Db,
  path: string,
  change: boolean,
): { readonly from: number; readonly to: number } | null {
  // The common case, read without the write lock: a process connecting while another writes
  // (a long transaction, a backup) does not wait for it.
  if (atCurrentVersion(db, path)) return null;
  return db
    .transaction(() => {
      refuseForeignFile(db, path);
      db.exec(`CREATE TABLE IF NOT EXISTS migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT    NOT NULL,
      applied_at TEXT    NOT NULL
    )`);
      const newest =
        (db.prepare("SELECT max(version) AS v FROM migrations").get() as { v: number | null }).v ??
        0;
      const known = knownMigrations();
      if (newest > known.length) {
        const { name } = db
          .prepare("SELECT name FROM migrations WHERE version = ?")
          .get(newest) as {
          name: string;
        };
        throw new SchemaVersionError(
          `SQLite file ${path} is at schema version ${newest} (${name}), newer than this Sheppy knows (${known.length}): upgrade sheppy`,
        );
      }
      if (newest < known.length && !change) {
        throw new SchemaVersionError(
          `SQLite file ${path} is at schema version ${newest}, older than this Sheppy (${known.length}); a command that only looks does not migrate it under the workers that use it: start a worker of this version when they are upgraded (it migrates the file), or use their sheppy`,
        );
      }
      const record = db.prepare(
        "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
      );
      for (const migration of known.slice(newest)) {
        db.exec(migration.sql);
        record.run(migration.version, migration.name, new Date().toISOString());
      }
      return newest < known.length ? { from: newest, to: known.length } : null;
    })
    .immediate();
}

/**
 * Whether the file holds Sheppy's tables at this Sheppy's newest version (a
 * read: no lock waited for); another application's file is refused here.
 */
function atCurrentVersion(db: Db, path: string): boolean {
  refuseForeignFile(db, path);
  if (!holdsSheppyTables(db)) return false;
  const { v } = db.prepare("SELECT max(version) AS v FROM migrations").get() as {
    v: number | null;
  };
  return v === knownMigrations().length;
}
