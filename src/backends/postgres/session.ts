/**
 * @module backends/postgres/session
 * What every part of the PostgreSQL backend shares: the pool, the schema's
 * statements, the connection state, and the one way to talk to the server —
 * {@link PgSession.run}, {@link PgSession.query} and
 * {@link PgSession.transaction}.
 *
 * Every call is bounded in time. A call that cannot get a connection, or
 * whose connection dies before it took effect (inside a transaction before
 * COMMIT), is run again once the server answers, until `unavailableAfterMs`
 * passes; then it fails with `BackendUnavailableError`, the URL masked. A
 * call whose connection died while its effect was unknown (a single
 * statement, or COMMIT, on the way) is run again only when running it twice
 * is safe (`resend: "always"`: reads, and writes that recognise their own
 * earlier send by a token or by fences), and is told so (`resent`). A
 * transaction the server aborted (deadlock, serialization failure) is run
 * again at once. What the server refuses is a `BackendError`. So no raw
 * driver error leaves the backend.
 *
 * Statements are prepared once per connection under a name, unless
 * `preparedStatements` is off. A pooler in transaction mode (PgBouncer
 * before 1.21 and others) hands one server connection to many clients, so a
 * name one client prepared is found by another, or missing where the driver
 * expects it: the server refuses such a call before running it. The first
 * such refusal turns names off for the session, says so once, and the call
 * runs again.
 */
import { createHash } from "node:crypto";
import type { Client, Pool, PoolClient, QueryResultRow } from "pg";
import { BackendError, BackendUnavailableError, SheppyError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { maskUrl } from "../../util/mask-url.js";
import { KnownDown } from "../known-down.js";
import { notConnectedError } from "../not-connected.js";
import {
  codeOf,
  describeRefusal,
  explainConnectFailure,
  type Failure,
  isConnectionFailure,
  isNotSentByPooler,
  isRolledBack,
  loggableError,
  scrubber,
} from "./connection-errors.js";
import { ensureSchema } from "./migrations.js";

/** SQLSTATE of a statement the role lacks the rights for. */
const INSUFFICIENT_PRIVILEGE = "42501";
const READ_ONLY_TRANSACTION = "25006";
/** SQLSTATEs of a named statement the server connection already holds, or does not hold. */
const PREPARED_STATEMENT_CLASH = new Set(["42P05", "26000"]);

import { passwordOf } from "./postgres-url.js";
import { type Channels, channelsOf, withSchema } from "./schema-name.js";

/** A statement, prepared once per connection under its name (unless prepared statements are off). */
export interface Sql {
  readonly name: string;
  readonly text: string;
}

/** When a call may be run again after its connection died with its effect unknown. */
export type Resend = "always" | "unsent";

export interface CallOptions {
  readonly resend?: Resend | undefined;
  /** False for a worker loop's calls (they retry on their own): give up within 1 s (see `../known-down.ts`). */
  readonly wait?: boolean | undefined;
}

/** Whether `error` is node-postgres giving up on a statement's answer (`query_timeout`), the connection otherwise fine. */
/** The role a URL connects as, quoted for SQL; `<role>` when the URL names none (PGUSER, the OS user). */
function roleOfUrl(url: string): string {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === "" ? "<role>" : `"${user.replaceAll('"', '""')}"`;
  } catch {
    return "<role>";
  }
}

function isReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === "Query read timeout";
}

/** A new connection the server accepted but did not take up in time (a paused server answers no handshake). */
function isConnectTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    /timeout exceeded when trying to connect|due to connection timeout/i.test(error.message)
  );
}

/** Pause between tries while the server cannot be reached: doubling from the first to the last. */
const FIRST_PAUSE_MS = 50;
const LAST_PAUSE_MS = 1000;

/** A connection inside a transaction (or a single call). */
export interface Tx {
  query<R extends QueryResultRow = QueryResultRow>(
    sql: Sql,
    values?: readonly unknown[],
  ): Promise<R[]>;
}

export interface SessionOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolSize: number;
  /** A pool the application owns: used as it is, never ended by the backend. */
  readonly pool?: Pool | undefined;
  /** Whether connecting creates the schema's tables when it holds none (see `ensureSchema`). */
  readonly createSchema: boolean;
  readonly logger: Logger;
  readonly unavailableAfterMs: number;
  /** Whether statements are prepared under names (see the module header). */
  readonly preparedStatements: boolean;
  /** Where the notification listener connects, when not where the pool does (a pooler in transaction mode forwards no notifications). */
  readonly listenUrl?: string | undefined;
}

/** A failure, with where it happened: taking a connection, or with one. */
class CallFailure extends Error {
  constructor(
    readonly failure: Failure,
    readonly error: unknown,
  ) {
    super("call failed");
  }
}

type PgModule = typeof import("pg");

/** Clients already given an error listener. */
const watched = new WeakSet<PoolClient>();

/** node-postgres, loaded on first connect (so `memory://` never loads a driver). */
async function loadPg(): Promise<PgModule> {
  try {
    return await import("pg");
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      throw new BackendUnavailableError("install pg to use postgres:// URLs (npm install pg)");
    }
    throw error;
  }
}

export class PgSession {
  readonly schema: string;
  readonly channels: Channels;
  readonly maskedUrl: string;
  readonly scrub: (text: string) => string;
  readonly #options: SessionOptions;
  readonly #statements = new Map<string, Sql>();
  readonly #schemaKey: string;
  #prepared: boolean;
  #pool: Pool | undefined;
  #pg: PgModule | undefined;
  #connecting: Promise<void> | undefined;
  #connected = false;
  /** Disconnected since it last connected (a call then is told so, not to connect first). */
  #closed = false;
  /** Calls waiting for a pool connection when the backend disconnects: ended at once. */
  readonly #waitingForClient = new Set<(error: Error) => void>();
  /** An outage is under way: logged once when it starts, once when it ends. */
  #outage = false;
  /** Whether the server is known to be down: callers' calls then try only briefly. */
  readonly #knownDown: KnownDown;
  readonly #onClientError = (error: Error) => this.#noteOutage(error);
  /**
   * Every client the pool hands out is watched the moment it is acquired:
   * the pool drops its own error listener then, and a new connection's
   * first data can carry an error right behind its "ready" (a server
   * shutting down), parsed before the caller's code ever sees the client —
   * an error with no listener there would end the process.
   */
  readonly #onAcquire = (client: PoolClient) => this.#watchClient(client);

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#knownDown = new KnownDown(options.unavailableAfterMs);
    this.schema = options.schema;
    this.channels = channelsOf(options.schema);
    this.maskedUrl = maskUrl(options.url);
    this.#prepared = options.preparedStatements;
    const scrubMain = scrubber(passwordOf(options.url));
    const scrubListen = scrubber(options.listenUrl && passwordOf(options.listenUrl));
    this.scrub = (text) => scrubListen(scrubMain(text));
    this.#schemaKey = createHash("sha1").update(options.schema).digest("hex").slice(0, 8);
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  get unavailableAfterMs(): number {
    return this.#options.unavailableAfterMs;
  }

  /** Whether notifications are listened for at a `listenUrl` of their own. */
  get listensElsewhere(): boolean {
    return this.#options.listenUrl !== undefined;
  }

  /** Where notifications are listened for, masked: the pool's URL unless `listenUrl` names another. */
  get maskedListenUrl(): string {
    return this.#options.listenUrl === undefined
      ? this.maskedUrl
      : maskUrl(this.#options.listenUrl);
  }

  /** The statement `text` (with `%SCHEMA%` placeholders) for this schema, named for preparing once per connection. */
  sql(text: string): Sql {
    let sql = this.#statements.get(text);
    if (!sql) {
      const hash = createHash("sha1").update(text).digest("hex").slice(0, 16);
      sql = { name: `sheppy_${this.#schemaKey}_${hash}`, text: withSchema(text, this.schema) };
      this.#statements.set(text, sql);
    }
    return sql;
  }

  /** Opens the pool and brings the schema to this code's version (see `./migrations.ts`). */
  connect(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    this.#connecting ??= (async () => {
      try {
        const pg = await loadPg();
        this.#pg = pg;
        const pool = this.#options.pool ?? this.#newPool(pg);
        pool.on("error", this.#onClientError);
        pool.on("acquire", this.#onAcquire);
        this.#pool = pool;
        try {
          // One connection, taken within the bound: an application's pool whose connections its
          // own transactions all hold would otherwise keep this waiting without end.
          const client = await this.#clientOf(pool);
          let failure: unknown;
          try {
            const upgraded = await ensureSchema(client, this.schema, this.#options.createSchema);
            // An upgrade changes a schema every process of the app shares: said by the one that did it.
            if (upgraded !== null) {
              this.#options.logger.info(
                { schema: this.schema, from: upgraded.from, to: upgraded.to },
                `postgres: upgraded schema "${this.schema}" from version ${upgraded.from} to ${upgraded.to}`,
              );
            }
          } catch (error) {
            failure = error;
            throw error;
          } finally {
            client.release(failure instanceof Error ? failure : undefined);
          }
        } catch (error) {
          await this.#closePool();
          throw this.#connectFailure(error);
        }
        this.#connected = true;
        this.#knownDown.reached();
        this.#closed = false;
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  #newPool(pg: PgModule): Pool {
    return new pg.Pool({
      connectionString: this.#options.url,
      max: this.#options.poolSize,
      // Connections open on demand and close when idle: a connect costs one connection, once.
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: this.unavailableAfterMs,
      // A server that stops answering (paused, partitioned) fails the statement instead of hanging it.
      query_timeout: this.unavailableAfterMs,
      keepAlive: true,
      application_name: "sheppy",
    });
  }

  /**
   * A client the pool hands out may fail while checked out, between
   * statements: the error is noted, never thrown (an unheard 'error' event
   * would end the process). Clients of an application's pool too.
   */
  #watchClient(client: PoolClient): void {
    if (watched.has(client)) return;
    watched.add(client);
    client.on("error", this.#onClientError);
  }

  /** The statements that give `role` what Sheppy's schema asks of a worker or a producer. */
  #grantsFor(role: string): string {
    const schema = `"${this.schema}"`;
    return [
      `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
      `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`,
      `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${role}`,
    ].join("; ");
  }

  #connectFailure(error: unknown): Error {
    if (error instanceof BackendError) return error;
    if (codeOf(error) === INSUFFICIENT_PRIVILEGE) {
      // Connected, and refused by the schema's rights: not an outage to wait out.
      return new BackendError(
        this.scrub(
          `PostgreSQL at ${this.maskedUrl} refused this role the schema "${this.schema}": ${explainConnectFailure(error)}; grant the role USAGE on the schema and reads and writes on its tables, sequences and functions, as the role that migrated it: ${this.#grantsFor(roleOfUrl(this.#options.url))} (see the PostgreSQL backend's docs on roles)`,
        ),
        { cause: error },
      );
    }
    if (codeOf(error) === READ_ONLY_TRANSACTION) {
      // Connected, and the server takes no writes (a replica): waiting will not change it.
      return new BackendError(
        this.scrub(
          `PostgreSQL at ${this.maskedUrl} takes no writes (a read-only replica, or default_transaction_read_only set for this role or in the URL), and the schema "${this.schema}" needs creating or migrating: ${explainConnectFailure(error)}; point this at the primary`,
        ),
        { cause: error },
      );
    }
    return new BackendUnavailableError(
      this.scrub(
        `cannot connect to PostgreSQL at ${this.maskedUrl}: ${explainConnectFailure(error)}`,
      ),
      { cause: error },
    );
  }

  /**
   * A connected client of its own, outside the pool (the notification
   * listener's): with the pool's settings, at `listenUrl` when there is
   * one; `BackendUnavailableError` when it cannot connect.
   */
  async newClient(): Promise<Client> {
    const pg = this.#pg;
    const pool = this.#pool;
    if (!pg || !pool) throw new BackendError("PostgreSQL backend is not connected");
    const { listenUrl } = this.#options;
    // node-postgres reads a connection string over the host, port, user… given beside it.
    const client = new pg.Client(
      listenUrl === undefined ? pool.options : { ...pool.options, connectionString: listenUrl },
    );
    client.on("error", this.#onClientError);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw this.#connectFailure(error);
    }
    return client;
  }

  async disconnect(): Promise<void> {
    if (this.#connecting) await this.#connecting.catch(() => undefined);
    if (!this.#connected) return;
    this.#connected = false;
    this.#closed = true;
    // A connection the pool is still opening when it ends is never handed out: end those waits here.
    const closed = new Error("the backend disconnected");
    for (const end of [...this.#waitingForClient]) end(closed);
    await this.#closePool();
  }

  async #closePool(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (!pool) return;
    if (this.#options.pool) {
      pool.off("error", this.#onClientError);
      pool.off("acquire", this.#onAcquire);
      return;
    }
    await pool.end().catch(() => undefined);
  }

  /** Throws `BackendError` when the backend is not connected. */
  assertConnected(): void {
    if (!this.#connected) throw notConnectedError("PostgreSQL backend", this.#closed);
  }

  /** One statement, on its own (autocommit). */
  query<R extends QueryResultRow = QueryResultRow>(
    what: string,
    sql: Sql,
    values: readonly unknown[] = [],
    options: CallOptions = {},
  ): Promise<R[]> {
    return this.run(what, (tx) => tx.query<R>(sql, values), options);
  }

  /**
   * Runs `fn` in one transaction. `fn` may run more than once (see the module
   * header); `resent` tells it that an earlier run may have committed.
   */
  transaction<T>(
    what: string,
    fn: (tx: Tx, resent: boolean) => Promise<T>,
    options: CallOptions = {},
  ): Promise<T> {
    return this.run(
      what,
      async (tx, resent, client) => {
        await client.query("BEGIN");
        let committing = false;
        try {
          const result = await fn(tx, resent);
          committing = true;
          await client.query("COMMIT");
          return result;
        } catch (error) {
          // The connection died before COMMIT went out: the server rolls the transaction back.
          if (!committing && isConnectionFailure(error)) throw new CallFailure("unsent", error);
          if (!committing) await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
      },
      options,
    );
  }

  /**
   * Runs `fn` on a connection taken from the pool, within the time bound,
   * run again after a connection problem as the module header says.
   */
  async run<T>(
    what: string,
    fn: (tx: Tx, resent: boolean, client: PoolClient) => Promise<T>,
    options: CallOptions = {},
  ): Promise<T> {
    const resend = options.resend ?? "always";
    const bound = this.#knownDown.bound(options.wait !== false);
    const deadline = Date.now() + bound.ms;
    let resent = false;
    let pause = FIRST_PAUSE_MS;
    for (;;) {
      this.assertConnected();
      const named = this.#prepared;
      let failure: CallFailure;
      try {
        const result = await this.#once(fn, resent);
        this.#knownDown.reached();
        this.#noteBack();
        return result;
      } catch (error) {
        if (!(error instanceof CallFailure)) throw error;
        failure = error;
      }
      if (!this.#connected) {
        throw new BackendError("PostgreSQL backend was disconnected during the call", {
          cause: failure.error,
        });
      }
      const { error } = failure;
      if (failure.failure === "refused" && named && this.#turnedOffPreparing(error)) {
        // Refused before it ran; a transaction's earlier statements were rolled back, but an
        // earlier statement of a call outside a transaction may have committed: told so.
        resent = true;
        continue;
      }
      if (failure.failure === "refused") {
        throw new BackendError(
          `${what}: PostgreSQL refused the call: ${describeRefusal(error, this.scrub)}`,
          {
            cause: error,
          },
        );
      }
      if (failure.failure === "rolledBack") continue;
      this.#noteOutage(error);
      if (failure.failure === "dropped") {
        if (resend === "unsent") {
          throw new BackendUnavailableError(
            isReadTimeout(error)
              ? `${what}: PostgreSQL at ${this.maskedUrl} did not answer within ${this.unavailableAfterMs / 1000} s (the server paused or overloaded, or the statement waiting on a lock); the call may or may not have been applied`
              : `${what}: the connection to PostgreSQL at ${this.maskedUrl} dropped before it answered; the call may or may not have been applied`,
            { cause: error },
          );
        }
        resent = true;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        if (!isReadTimeout(error)) this.#knownDown.gaveUp(bound);
        const downReason = this.#knownDown.reason(bound);
        throw new BackendUnavailableError(
          options.wait === false
            ? isReadTimeout(error)
              ? `${what}: PostgreSQL at ${this.maskedUrl} is connected but did not answer (the server paused or overloaded, or the statement waiting on a lock)`
              : isConnectTimeout(error)
                ? `${what}: PostgreSQL at ${this.maskedUrl} took no new connection in time (the server paused or overloaded, or out of connection slots)`
                : `${what}: PostgreSQL at ${this.maskedUrl} cannot be reached`
            : downReason !== null
              ? `${what}: PostgreSQL at ${this.maskedUrl} cannot be reached (${downReason})`
              : isReadTimeout(error)
                ? `${what}: PostgreSQL at ${this.maskedUrl} did not answer within ${this.unavailableAfterMs / 1000} s (the server paused or overloaded, or the statement waiting that long — on a lock another transaction holds?); a write may or may not have been applied, and may still be when the server answers`
                : isConnectTimeout(error)
                  ? `${what}: PostgreSQL at ${this.maskedUrl} took no new connection within ${this.unavailableAfterMs / 1000} s (the server paused or overloaded, or out of connection slots)`
                  : `${what}: PostgreSQL at ${this.maskedUrl} could not be reached within ${this.unavailableAfterMs / 1000} s`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      pause = Math.min(pause * 2, LAST_PAUSE_MS);
    }
  }

  /**
   * After a refusal for a named statement a server connection holds, or
   * lacks, where the driver expected otherwise: a pooler in transaction
   * mode shares server connections between clients. Names go (said once,
   * by the first call to meet it), and the caller runs the call again; false
   * for any other refusal.
   */
  #turnedOffPreparing(error: unknown): boolean {
    const code = codeOf(error);
    if (code === undefined || !PREPARED_STATEMENT_CLASH.has(code)) return false;
    if (!this.#prepared) return true;
    this.#prepared = false;
    this.#options.logger.warn(
      { url: this.maskedUrl, error: loggableError(error, this.scrub) },
      `postgres: the server refused a prepared statement's name (SQLSTATE ${code}): the connection goes through a pooler in transaction mode, which shares server connections between clients; statements are no longer prepared (add ?preparedStatements=false to the URL to start that way)`,
    );
    return true;
  }

  /** One try: a client, `fn`, the client back (dropped when its connection is in doubt). */
  /**
   * A pooled connection, or an error as soon as the backend disconnects while
   * it is being opened. The pool of our own gives up after the bound by
   * itself; an application's pool may wait without end, so the wait for one
   * of its connections is bounded here.
   */
  #clientOf(pool: Pool): Promise<PoolClient> {
    const connecting = pool.connect();
    return new Promise<PoolClient>((resolve, reject) => {
      let waiting = true;
      const timer = this.#options.pool
        ? setTimeout(() => end(this.#poolExhausted(pool)), this.unavailableAfterMs)
        : undefined;
      const end = (error: Error) => {
        if (!waiting) return;
        waiting = false;
        clearTimeout(timer);
        this.#waitingForClient.delete(end);
        reject(error);
        // Should the pool still hand it over, it goes back closed.
        connecting.then(
          (late) => late.release(true),
          () => undefined,
        );
      };
      this.#waitingForClient.add(end);
      connecting.then(
        (client) => {
          if (!waiting) return;
          waiting = false;
          clearTimeout(timer);
          this.#waitingForClient.delete(end);
          resolve(client);
        },
        (error: unknown) => {
          if (!waiting) return;
          waiting = false;
          clearTimeout(timer);
          this.#waitingForClient.delete(end);
          reject(error);
        },
      );
    });
  }

  /** No connection of the application's pool came free within the bound. */
  #poolExhausted(pool: Pool): BackendUnavailableError {
    return new BackendUnavailableError(
      `PostgreSQL at ${this.maskedUrl}: no connection of the application's pool came free within ${this.unavailableAfterMs / 1000} s (${pool.totalCount} open, ${pool.idleCount} idle, ${pool.waitingCount} calls waiting for one, this one among them); do transactions of yours hold them all — one adding a task before the queue has connected, say? Connect the queue at startup (await queue.connect()), and give the pool more connections than your transactions hold at once`,
    );
  }

  async #once<T>(
    fn: (tx: Tx, resent: boolean, client: PoolClient) => Promise<T>,
    resent: boolean,
  ): Promise<T> {
    const pool = this.#pool;
    if (!pool) throw new CallFailure("unsent", new Error("the pool is closed"));
    let client: PoolClient;
    try {
      client = await this.#clientOf(pool);
      this.#watchClient(client);
    } catch (error) {
      // The application's pool had no connection to spare: said as it is, not retried.
      if (error instanceof BackendUnavailableError) throw error;
      throw new CallFailure(
        isConnectionFailure(error) || !this.#connected ? "unsent" : "refused",
        error,
      );
    }
    const tx: Tx = {
      query: async <R extends QueryResultRow>(sql: Sql, values: readonly unknown[] = []) =>
        (
          await client.query<R>({
            // Read per statement: a pooler's clash turns names off while calls are under way.
            ...(this.#prepared ? { name: sql.name } : {}),
            text: sql.text,
            values: values as unknown[],
          })
        ).rows,
    };
    try {
      const result = await fn(tx, resent, client);
      client.release();
      return result;
    } catch (error) {
      // Sheppy's own errors (a record that cannot be stored…) leave as they are.
      if (error instanceof SheppyError) {
        client.release();
        throw error;
      }
      const failure =
        error instanceof CallFailure
          ? error
          : new CallFailure(
              isRolledBack(error)
                ? "rolledBack"
                : isNotSentByPooler(error)
                  ? "unsent"
                  : isConnectionFailure(error)
                    ? "dropped"
                    : "refused",
              error,
            );
      // A connection in doubt is closed, not handed to the next call.
      const inDoubt = failure.failure === "unsent" || failure.failure === "dropped";
      client.release(inDoubt ? true : undefined);
      throw failure;
    }
  }

  #noteOutage(error: unknown): void {
    if (this.#outage || !this.#connected) return;
    this.#outage = true;
    this.#options.logger.warn(
      { error: loggableError(error, this.scrub), url: this.maskedUrl },
      "lost the connection to PostgreSQL; retrying",
    );
  }

  #noteBack(): void {
    if (!this.#outage) return;
    this.#outage = false;
    this.#options.logger.warn({ url: this.maskedUrl }, "reconnected to PostgreSQL");
  }
}
