/**
 * @module backends/redis/connections
 * The Redis connections one backend holds: a main client, a pool of clients for
 * blocking waits (a blocked connection can do nothing else), and one
 * subscriber for finished-task notifications. ioredis reconnects with
 * backoff; an outage is logged once when it starts and once when it ends.
 * The main and blocking connections queue nothing while disconnected and
 * resend nothing by themselves: the session decides what may be sent again
 * (see `./session.ts`), and no command waits past the backend's time bound.
 */
import type { Redis, RedisOptions } from "ioredis";
import { BackendUnavailableError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { maskUrl } from "../../util/mask-url.js";
import {
  checkRedisUrl,
  closedBeforeAnswer,
  connectFirst,
  withoutSecrets,
} from "./connection-errors.js";

async function loadIoredis(): Promise<{ Redis: typeof import("ioredis").Redis }> {
  try {
    const module = await import("ioredis");
    return { Redis: module.Redis };
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      throw new BackendUnavailableError(
        "install ioredis to use redis:// URLs (npm install ioredis)",
      );
    }
    throw error;
  }
}

/**
 * Once connected, reconnect after 100 ms, 200 ms, … up to 1 s between
 * attempts, forever. Kept short: a worker that reaches Redis again late may
 * find its claims taken over once the reclaim confirmation window (which
 * allows for this second) has passed. The first connect is not retried (see
 * ./connection-errors.ts).
 */
export const RECONNECT_MAX_DELAY_MS = 1000;
const retryStrategy = (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_DELAY_MS);

/**
 * Tries at making the first connection when the server closes it without a
 * word: enough to ride out a connection cut by chance, few enough that a
 * server wanting TLS is still reported within a second.
 */
const FIRST_CONNECT_ATTEMPTS = 3;

/** ioredis's message for a command whose connection closed (what the session recognises). */
const CONNECTION_CLOSED = "Connection is closed.";

/** The part of an ioredis client that fails its waiting commands (not in its published types). */
interface InFlight {
  flushQueue(error: Error, options: { offlineQueue: boolean }): void;
}

/** How long closing waits for a polite QUIT before dropping the connection. */
const QUIT_WAIT_MS = 1000;

/** Callers waiting for each client to be ready again: one `ready` listener per client, however many wait. */
const readyWaiters = new WeakMap<Redis, Set<() => void>>();

/**
 * @internal Resolves once `client` is ready, or after `ms`. During an outage
 * every call of the backend waits here; they share one listener, so a busy
 * process does not pile up listeners (and Node's leak warning) on the client.
 */
export function untilClientReady(client: Redis, ms: number): Promise<void> {
  // "ready" with a socket that can no longer be written is a connection about to be reported closed.
  if (client.status === "ready" && client.stream?.writable !== false) return Promise.resolve();
  return new Promise((resolve) => {
    let waiters = readyWaiters.get(client);
    if (!waiters) {
      const waiting = new Set<() => void>();
      readyWaiters.set(client, waiting);
      // A connection closed for good ("end", e.g. disconnect() while it was still connecting) never
      // becomes ready: stop waiting then too, so the caller fails at once instead of at its timeout.
      const settle = () => {
        client.off("ready", settle);
        client.off("end", settle);
        readyWaiters.delete(client);
        for (const wake of [...waiting]) wake();
      };
      client.once("ready", settle);
      client.once("end", settle);
      waiters = waiting;
    }
    const waiting = waiters;
    const done = () => {
      clearTimeout(timer);
      waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiting.add(done);
  });
}

export class RedisConnections {
  #main: Redis | undefined;
  #subscriber: Redis | undefined;
  readonly #idleBlocking: Redis[] = [];
  readonly #allBlocking = new Set<Redis>();
  #outage = false;

  constructor(
    private readonly url: string,
    private readonly options: RedisOptions,
    private readonly logger: Logger,
    /** The longest a command may wait for its answer (ms). */
    private readonly commandTimeoutMs: number,
  ) {
    // When the backend is created, not at connect: a URL ioredis would misread is a usage error.
    checkRedisUrl(url);
  }

  get main(): Redis {
    if (!this.#main) throw new BackendUnavailableError("Redis backend is not connected");
    return this.#main;
  }

  /** Opens the main connection; a failure is a one-line `BackendUnavailableError` naming its cause. */
  async open(): Promise<Redis> {
    const { Redis } = await loadIoredis();
    for (let attempt = 1; ; attempt++) {
      const client = new Redis(this.url, {
        lazyConnect: true,
        // Off: a single awaited command (an add, a claim) would wait a tick for company. Batches use explicit pipelines.
        enableAutoPipelining: false,
        retryStrategy,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        commandTimeout: this.commandTimeoutMs,
        ...this.options,
      });
      this.#watch(client);
      this.#failInFlightOnClose(client);
      try {
        await connectFirst(client, this.url);
        this.#main = client;
        return client;
      } catch (error) {
        // Any other failure says what is wrong at once (a refused port, a bad password, TLS).
        if (attempt >= FIRST_CONNECT_ATTEMPTS || !closedBeforeAnswer(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryStrategy(attempt)));
      }
    }
  }

  #watch(client: Redis): void {
    client.on("error", (error: Error) => {
      if (this.#outage || !this.#main) return;
      this.#outage = true;
      this.logger.warn(
        { err: withoutSecrets(error), url: maskUrl(this.url) },
        "lost the connection to Redis; reconnecting",
      );
    });
    client.on("ready", () => {
      if (!this.#outage) return;
      this.#outage = false;
      this.logger.info({ url: maskUrl(this.url) }, "reconnected to Redis");
    });
  }

  /**
   * Fails the commands a dropped connection was still waiting on, at once.
   * With its own resending turned off, ioredis would otherwise forget them
   * without an answer until their timeout ran out; failed now, each goes back
   * to the session, which sends it again when that is safe.
   */
  #failInFlightOnClose(client: Redis): void {
    // "close" is emitted before ioredis sets the unanswered commands aside, so they are still queued here.
    client.on("close", () => {
      (client as unknown as InFlight).flushQueue(new Error(CONNECTION_CLOSED), {
        offlineQueue: false,
      });
    });
  }

  /**
   * Resolves once the main connection is ready again, or after `ms`: a call
   * that found Redis unreachable waits for this instead of spinning.
   */
  untilReady(ms: number): Promise<void> {
    return this.#main ? untilClientReady(this.#main, ms) : Promise.resolve();
  }

  /** A blocking connection: nothing queued while disconnected, and no blocking command outlives its wait by much. */
  #blockingClient(): Redis {
    const client = this.main.duplicate({
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      lazyConnect: false,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: undefined,
      blockingTimeout: this.commandTimeoutMs,
    });
    this.#watch(client);
    this.#failInFlightOnClose(client);
    return client;
  }

  /** The subscriber resubscribes by itself after a reconnect; its SUBSCRIBE may wait for the connection. */
  #subscriberClient(): Redis {
    const client = this.main.duplicate({
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      lazyConnect: false,
      enableOfflineQueue: true,
      commandTimeout: this.commandTimeoutMs,
    });
    this.#watch(client);
    return client;
  }

  /**
   * Runs `fn` on a connection of its own (for a blocking command), returned to
   * the pool afterwards; waits at most `readyWithinMs` for that connection.
   */
  async withBlocking<T>(
    fn: (client: Redis) => Promise<T>,
    readyWithinMs = this.commandTimeoutMs,
  ): Promise<T> {
    let client = this.#idleBlocking.pop();
    if (!client) {
      client = this.#blockingClient();
      this.#allBlocking.add(client);
    }
    try {
      // A new (or reconnecting) connection queues nothing: wait until it can take the command.
      await untilClientReady(client, readyWithinMs);
      return await fn(client);
    } finally {
      if (this.#allBlocking.has(client)) this.#idleBlocking.push(client);
    }
  }

  /** The subscriber connection, created on first use. */
  subscriber(): Redis {
    this.#subscriber ??= this.#subscriberClient();
    return this.#subscriber;
  }

  async close(): Promise<void> {
    const clients = [this.#main, this.#subscriber, ...this.#allBlocking].filter(
      (c): c is Redis => c !== undefined,
    );
    this.#main = undefined;
    this.#subscriber = undefined;
    this.#allBlocking.clear();
    this.#idleBlocking.length = 0;
    await Promise.all(
      clients.map(async (client) => {
        // A connection that is down (or a server that does not answer) is dropped, not waited for.
        if (client.status !== "ready") {
          client.disconnect();
          return;
        }
        const dropped = setTimeout(() => client.disconnect(), QUIT_WAIT_MS);
        try {
          await client.quit();
        } catch {
          client.disconnect();
        } finally {
          clearTimeout(dropped);
        }
      }),
    );
  }

  /** Drops blocked connections at once (their waits end with an error). */
  interruptBlocking(): void {
    for (const client of this.#allBlocking) client.disconnect();
    this.#allBlocking.clear();
    this.#idleBlocking.length = 0;
  }
}
