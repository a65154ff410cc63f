/**
 * @module backends/postgres/notifications
 * LISTEN/NOTIFY. Statements that make work claimable `pg_notify` the schema's
 * work channel with the queue's name, and those that finish tasks or
 * workflows notify the finished channel with their ids, and appends to a
 * queue's event log notify the events channel with the queue's name — inside
 * their transaction, so the notification goes out when it commits, never before.
 *
 * One connection per backend, opened on first need (a claim or event read
 * that has to wait, or `watchFinished`), holds LISTEN on the three channels
 * and fans the notifications out to waiting claims, waiting event reads and
 * finished-listeners of their queue.
 * When that connection drops, every waiter is woken and every listener told
 * to look again (an empty list) — notifications may have been missed — and
 * it is opened again with backoff; once listening again, listeners are told
 * to look again once more. A waiting claim also looks again every couple of
 * seconds, so a notification lost without notice costs at most that.
 *
 * Once listening, it notifies itself through the pool: a pooler in
 * transaction mode between the backend and the server forwards no
 * notifications to a LISTEN made through it, and nothing else would say
 * so — work would just be seen seconds late. When its own notification has
 * not come back within a few seconds, that is logged once, with the way out.
 */
import { randomUUID } from "node:crypto";
import type { Client, Notification } from "pg";
import type { Logger } from "../../observability/logger.js";
import { loggableError } from "./connection-errors.js";
import type { PgSession } from "./session.js";

type FinishedListener = (ids: readonly string[]) => void;

/** Bytes a NOTIFY payload may hold (the server's limit is 8000). */
const MAX_PAYLOAD_BYTES = 7900;
const RECONNECT_FIRST_MS = 100;
const RECONNECT_LAST_MS = 2000;
/** How long the listener's own notification may take to come back before it is called lost. */
const PROBE_MS = 5000;
const PROBE = "SELECT pg_notify($1, $2)";

/**
 * The payloads announcing that `ids` of `queue` finished: JSON arrays
 * `[queue, id, …]`, as many as it takes to keep each under the limit.
 */
export function finishedPayloads(queue: string, ids: readonly string[]): string[] {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let bytes = Buffer.byteLength(JSON.stringify([queue]));
  for (const id of ids) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (chunk.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      payloads.push(JSON.stringify([queue, ...chunk]));
      chunk = [];
      bytes = Buffer.byteLength(JSON.stringify([queue]));
    }
    // An id too long for any payload is left out: its waiters find it at their next periodic look.
    if (bytes + size > MAX_PAYLOAD_BYTES) continue;
    chunk.push(id);
    bytes += size;
  }
  if (chunk.length > 0) payloads.push(JSON.stringify([queue, ...chunk]));
  return payloads;
}

/** Announces finished ids of a queue from inside a transaction (sent when it commits). */
export const NOTIFY_FINISHED = "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p";

/** A wake-up for one waiting claim: armed before it looks, awaited after. */
export interface WorkSignal {
  /** Resolves on a notification for the queue (since arming), after `ms`, or when the backend disconnects. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

/** Wakes (once) everything waiting on `queue`. */
function wake(all: Map<string, Set<() => void>>, queue: string): void {
  const waiters = all.get(queue);
  if (!waiters) return;
  all.delete(queue);
  for (const waiter of waiters) waiter();
}

export class Notifier {
  #client: Client | undefined;
  #opening: Promise<void> | undefined;
  #running = false;
  #reconnectMs = RECONNECT_FIRST_MS;
  #reconnectTimer: NodeJS.Timeout | undefined;
  readonly #workWaiters = new Map<string, Set<() => void>>();
  readonly #eventWaiters = new Map<string, Set<() => void>>();
  readonly #finished = new Map<string, Set<FinishedListener>>();
  /** The payload of the listener's own notification under way, and what its arrival calls. */
  #probe: { readonly token: string; readonly arrived: () => void } | undefined;
  #warnedDeaf = false;

  constructor(
    private readonly session: PgSession,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  /** Listens (once) on both channels; resolves once LISTEN is in place. */
  start(): Promise<void> {
    this.#running = true;
    if (this.#client) return Promise.resolve();
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    const client = await this.session.newClient();
    if (!this.#running) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on("notification", (message) => this.#deliver(message));
    const lost = (error?: Error) => this.#lost(client, error);
    client.on("error", lost);
    client.on("end", () => lost());
    const { work, finished, events } = this.session.channels;
    try {
      await client.query(`LISTEN "${work}"; LISTEN "${finished}"; LISTEN "${events}"`);
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      throw error;
    }
    this.#client = client;
    this.#reconnectMs = RECONNECT_FIRST_MS;
    if (!this.#warnedDeaf) void this.#checkDelivery(client);
  }

  /** Notifies itself through the pool, and says so once if that does not arrive (see the module header). */
  async #checkDelivery(client: Client): Promise<void> {
    const token = `sheppy-listen-check-${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      this.#probe = { token, arrived: () => resolve(true) };
      timer = setTimeout(() => resolve(false), PROBE_MS);
      timer.unref();
    });
    try {
      const sql = this.session.sql(PROBE);
      await this.session.query("listen check", sql, [this.session.channels.work, token]);
    } catch {
      // Not sent (an outage, a disconnect): nothing learnt about delivery.
      clearTimeout(timer);
      if (this.#probe?.token === token) this.#probe = undefined;
      return;
    }
    const delivered = await arrived;
    clearTimeout(timer);
    if (this.#probe?.token === token) this.#probe = undefined;
    // Lost with its connection, or the backend stopping: not a sign of a pooler.
    if (delivered || this.#warnedDeaf || !this.#running || this.#client !== client) return;
    this.#warnedDeaf = true;
    const why = this.session.listensElsewhere
      ? "does listenUrl name the same database as the URL, directly rather than through a pooler in transaction mode?"
      : "is the connection for LISTEN going through a pooler in transaction mode? Give the backend a direct connection for notifications with ?listenUrl= (or the listenUrl option)";
    this.logger.warn(
      { url: this.session.maskedListenUrl },
      `postgres: notifications do not reach this process (its own did not arrive within ${PROBE_MS / 1000} s), so idle workers and waits see new work only at their look every ${this.pollMs / 1000} s: ${why}`,
    );
  }

  #lost(client: Client, error?: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (!this.#running) return;
    this.logger.warn(
      {
        err: error ? loggableError(error, this.session.scrub) : undefined,
        url: this.session.maskedUrl,
      },
      "lost the PostgreSQL notification connection; reconnecting",
    );
    void client.end().catch(() => undefined);
    this.#lookAgain();
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer || !this.#running) return;
    const delay = this.#reconnectMs;
    this.#reconnectMs = Math.min(this.#reconnectMs * 2, RECONNECT_LAST_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.#running || this.#client) return;
      this.start().then(
        () => {
          this.logger.warn(
            { url: this.session.maskedUrl },
            "listening for PostgreSQL notifications again",
          );
          // Whatever was announced while nobody listened is found by looking again.
          this.#lookAgain();
        },
        () => this.#scheduleReconnect(),
      );
    }, delay);
    this.#reconnectTimer.unref();
  }

  #deliver(message: Notification): void {
    const { work, finished, events } = this.session.channels;
    const payload = message.payload ?? "";
    if (message.channel === work && payload === this.#probe?.token) {
      this.#probe.arrived();
      return;
    }
    if (message.channel === work) {
      wake(this.#workWaiters, payload);
    } else if (message.channel === events) {
      wake(this.#eventWaiters, payload);
    } else if (message.channel === finished) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch {
        return;
      }
      if (!Array.isArray(parsed) || typeof parsed[0] !== "string") return;
      const listeners = this.#finished.get(parsed[0]);
      if (!listeners) return;
      const ids = parsed.slice(1).filter((id): id is string => typeof id === "string");
      for (const listener of [...listeners]) listener(ids);
    }
  }

  /** Wakes every waiting claim and event read, and tells every finished-listener to look again. */
  #lookAgain(): void {
    const all = [...this.#workWaiters.values(), ...this.#eventWaiters.values()];
    this.#workWaiters.clear();
    this.#eventWaiters.clear();
    for (const waiters of all) for (const wake of waiters) wake();
    for (const listeners of this.#finished.values()) {
      for (const listener of [...listeners]) listener([]);
    }
  }

  /** A signal for the next notification that `queue` has claimable work. */
  workSignal(queue: string): WorkSignal {
    return this.#signal(this.#workWaiters, queue);
  }

  /** A signal for the next notification that `queue`'s event log grew. */
  eventSignal(queue: string): WorkSignal {
    return this.#signal(this.#eventWaiters, queue);
  }

  #signal(all: Map<string, Set<() => void>>, queue: string): WorkSignal {
    let woken = false;
    let wake: (() => void) | undefined;
    const waiter = () => {
      woken = true;
      wake?.();
    };
    let waiters = all.get(queue);
    if (!waiters) {
      waiters = new Set();
      all.set(queue, waiters);
    }
    waiters.add(waiter);
    const remove = () => {
      const current = all.get(queue);
      current?.delete(waiter);
      if (current?.size === 0) all.delete(queue);
    };
    return {
      wait: (ms) =>
        woken || !this.#running
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const timer = setTimeout(done, ms);
              function done() {
                clearTimeout(timer);
                remove();
                resolve();
              }
              wake = done;
            }),
      cancel: () => {
        remove();
        // A wait under way ends now.
        wake?.();
      },
    };
  }

  /** Calls `listener` with the ids of `queue` that finish; the returned function stops. */
  async listenFinished(queue: string, listener: FinishedListener): Promise<() => void> {
    await this.start();
    let listeners = this.#finished.get(queue);
    if (!listeners) {
      listeners = new Set();
      this.#finished.set(queue, listeners);
    }
    listeners.add(listener);
    const own = listeners;
    return () => {
      own.delete(listener);
      if (own.size === 0 && this.#finished.get(queue) === own) this.#finished.delete(queue);
    };
  }

  /** Stops listening: waiting claims end, listeners are told to look again, the connection closes. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#lookAgain();
    this.#finished.clear();
    await this.#opening?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}
