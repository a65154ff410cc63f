/**
 * @module backends/redis/connections
 * The Redis connections one backend holds: a main client, a pool of clients for
 * blocking waits (a blocked connection can do nothing else), and one
 * subscriber for finished-task notifications. ioredis reconnects with
 * backoff; an outage is logged once when it starts and once when it ends.
 */
import type { Redis, RedisOptions } from "ioredis";
import { BackendUnavailableError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { maskUrl } from "../../util/mask-url.js";
import { checkRedisUrl, connectFirst, withoutSecrets } from "./connection-errors.js";

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
 * Once connected, reconnect after 100 ms, 200 ms, … up to 2 s between attempts,
 * forever. The first connect is not retried (see ./connection-errors.ts).
 */
const retryStrategy = (attempt: number) => Math.min(attempt * 100, 2000);

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
    const client = new Redis(this.url, {
      lazyConnect: true,
      // Off: a single awaited command (an add, a claim) would wait a tick for company. Batches use explicit pipelines.
      enableAutoPipelining: false,
      retryStrategy,
      ...this.options,
    });
    this.#watch(client);
    await connectFirst(client, this.url);
    this.#main = client;
    return client;
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

  #duplicate(): Redis {
    const client = this.main.duplicate({
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    this.#watch(client);
    return client;
  }

  /** Runs `fn` on a connection of its own (for a blocking command), returned to the pool afterwards. */
  async withBlocking<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    let client = this.#idleBlocking.pop();
    if (!client) {
      client = this.#duplicate();
      this.#allBlocking.add(client);
    }
    try {
      return await fn(client);
    } finally {
      if (this.#allBlocking.has(client)) this.#idleBlocking.push(client);
    }
  }

  /** The subscriber connection, created on first use. */
  subscriber(): Redis {
    this.#subscriber ??= this.#duplicate();
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
        try {
          await client.quit();
        } catch {
          client.disconnect();
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
