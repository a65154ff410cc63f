/**
 * @module queue/enqueue-options
 * The options every add takes — a transaction of the caller's, a priority,
 * a concurrency key — and their checks, shared by `queue.add`,
 * `queue.schedule` and a list of entries each with options of its own. Each
 * check throws a one-line `InvalidOptionError` naming the call and option.
 */
import type { Backend, SqlTransaction } from "../backends/backend.js";
import { InvalidOptionError } from "../errors.js";
import { type ConcurrencyOptions, checkConcurrencyOptions } from "../task/concurrency.js";
import { checkPriority } from "../task/priority.js";
import type { TaskData } from "../task/task-record.js";

/** How `queue.add()` and `queue.schedule()` store a task. */
export interface EnqueueOptions {
  /**
   * Add it within this transaction of yours on the backend's database (a
   * `pg` client between BEGIN and COMMIT, on a PostgreSQL backend): the task
   * exists, and workers hear of it, only once your transaction commits — and
   * never if it rolls back. Other backends refuse it.
   */
  tx?: SqlTransaction | undefined;
  /**
   * The priority these tasks are claimed by, instead of their task's (higher
   * first, FIFO within one priority; an integer).
   */
  priority?: number | undefined;
  /**
   * The concurrency key (and limit, default 1) these tasks run under, instead
   * of their task's: at most `limit` tasks with one key run at once across
   * every worker, in the order they became claimable.
   */
  concurrency?: ConcurrencyOptions | undefined;
  /**
   * Not in these options: an add under an id or a dedupe key resolves to
   * what it did instead of a boolean, so its options are
   * {@link ReportingEnqueueOptions} — a variable of this type holding one
   * would type the answer wrongly.
   */
  id?: undefined;
  /** Not in these options: see `id`. */
  dedupe?: undefined;
}

/** {@link EnqueueOptions} without the two members a reporting add gives. */
export type PlainEnqueueOptions = Omit<EnqueueOptions, "id" | "dedupe">;

/** The concurrency `options` give, checked; `undefined` keeps each task's own. */
export function concurrencyOf(
  options: PlainEnqueueOptions | undefined,
  where: string,
): Pick<TaskData, "concurrencyKey" | "concurrencyLimit"> | undefined {
  const given = options?.concurrency;
  if (given === undefined) return undefined;
  const { key, limit } = checkConcurrencyOptions(given, `${where}: concurrency`);
  return { concurrencyKey: key, concurrencyLimit: limit };
}

/** The priority `options` give, checked; `undefined` keeps each task's own. */
export function priorityOf(
  options: PlainEnqueueOptions | undefined,
  where: string,
): number | undefined {
  const priority = options?.priority;
  return priority === undefined ? undefined : checkPriority(priority, `${where}: priority`);
}

/** The transaction of `options`, checked against what `backend` can do; `undefined` when none. */
export function transactionOf(
  options: PlainEnqueueOptions | undefined,
  backend: Backend,
  where: string,
): SqlTransaction | undefined {
  const tx = options?.tx;
  if (tx === undefined) return undefined;
  if (typeof tx?.query !== "function") {
    throw new InvalidOptionError(
      `${where}: tx must be a transaction of your database connection, with query(text, values)`,
    );
  }
  if (isConnectionPool(tx)) {
    throw new InvalidOptionError(
      `${where}: tx is a connection pool, which runs each statement on whichever connection is free, outside any transaction of yours: pass the client you ran BEGIN on (const client = await pool.connect(); await client.query("BEGIN"); …)`,
    );
  }
  if (!backend.capabilities.sqlTransactions) {
    throw new InvalidOptionError(
      `${where}: this queue's backend cannot add within your SQL transaction (tx); a PostgreSQL backend can`,
    );
  }
  if (outsideTransaction(tx)) {
    throw new InvalidOptionError(
      `${where}: tx is a connection with no transaction open (no BEGIN yet, or after COMMIT or ROLLBACK): the task would be stored at once, whatever becomes of your rows; run BEGIN on it first, or leave tx out`,
    );
  }
  return tx;
}

/**
 * A node-postgres client that says it is idle, outside any transaction (the
 * server reports it after each statement), with no statement under way (a
 * BEGIN sent but not yet answered would still read idle). Other clients (an
 * ORM's wrapper) cannot say, and are taken at their word.
 */
function outsideTransaction(tx: object): boolean {
  const client = tx as { getTransactionStatus?: unknown; _getActiveQuery?: unknown };
  if (typeof client.getTransactionStatus !== "function") return false;
  if (typeof client._getActiveQuery === "function" && client._getActiveQuery() != null)
    return false;
  return client.getTransactionStatus() === "I";
}

/** A node-postgres `Pool` (counts its connections, hands them out): not a transaction. */
function isConnectionPool(tx: object): boolean {
  const pool = tx as { connect?: unknown; totalCount?: unknown; idleCount?: unknown };
  return (
    typeof pool.connect === "function" &&
    typeof pool.totalCount === "number" &&
    typeof pool.idleCount === "number"
  );
}
