/**
 * @module backends/redis/session
 * What every part of the Redis backend shares: the connection state, the key
 * set of each queue, the registry of queue names, and the two ways to run the
 * Lua scripts — plain, or resent after a lost reply until it gets through
 * (the script's request memo makes the resend replay its first answer).
 * Pipelines (`runBatch`) batch plain commands into one round trip.
 */
import { randomBytes } from "node:crypto";
import type { ChainableCommander, Redis, RedisOptions } from "ioredis";
import { BackendError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { RedisConnections } from "./connections.js";
import { type QueueKeys, queueKeys, queuesRegistryKey } from "./keys.js";
import { defineScripts, type ScriptName, type ScriptRunner } from "./scripts.js";

/** Arguments after the keys of a script call. */
export type ScriptArgs = readonly (string | number)[];

const CONNECTION_ERROR =
  /Connection is closed|Stream isn't writeable|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTCONN/;

/** Whether a command failed because the connection went away (its effect is unknown), not because Redis refused it. */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "MaxRetriesPerRequestError" || CONNECTION_ERROR.test(error.message);
}

/** Runs the commands `build` queues as one pipeline (one round trip); throws the first error. */
export async function runBatch<T>(
  client: Redis,
  build: (pipeline: ChainableCommander) => unknown,
): Promise<T[]> {
  const pipeline = client.pipeline();
  build(pipeline);
  if (pipeline.length === 0) return [];
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply as T;
  });
}

/** One backend instance's connections, scripts and per-queue keys. */
export class RedisSession {
  readonly connections: RedisConnections;
  readonly #keys = new Map<string, QueueKeys>();
  readonly #registered = new Set<string>();
  #run: ScriptRunner | undefined;
  #connecting: Promise<void> | undefined;
  #connected = false;

  constructor(
    readonly prefix: string,
    url: string,
    redisOptions: RedisOptions,
    logger: Logger,
  ) {
    this.connections = new RedisConnections(url, redisOptions, logger);
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  connect(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    this.#connecting ??= (async () => {
      try {
        const client = await this.connections.open();
        this.#run = defineScripts(client);
        this.#connected = true;
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  async disconnect(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    this.#run = undefined;
    this.connections.interruptBlocking();
    await this.connections.close();
  }

  /** The main client; throws `BackendError` when not connected. */
  get client(): Redis {
    if (!this.#connected)
      throw new BackendError("Redis backend is not connected: call connect() first");
    return this.connections.main;
  }

  /** Runs a script once; rejects with `BackendError` when not connected. */
  script(name: ScriptName, keys: readonly string[], args: ScriptArgs): Promise<unknown> {
    if (!this.#run || !this.#connected) {
      return Promise.reject(
        new BackendError("Redis backend is not connected: call connect() first"),
      );
    }
    return this.#run(name, keys, args);
  }

  /**
   * Runs a script whose first answer must not be lost: if the connection drops
   * before the reply arrives, the same call (same request key) is sent again
   * until it gets through, and the script replays what it did the first time.
   */
  async idempotent(name: ScriptName, keys: readonly string[], args: ScriptArgs): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.script(name, keys, args);
      } catch (error) {
        if (!isConnectionError(error) || !this.#connected) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 2000)));
      }
    }
  }

  /** A fresh request memo key: a script resent with it replays its first answer. */
  requestKey(k: QueueKeys): string {
    return `${k.request}${this.requestToken()}`;
  }

  /** A fresh random token naming one call, so a resend of it can be told from a new call. */
  requestToken(): string {
    return randomBytes(9).toString("base64url");
  }

  /** The keys of `queue` (built once per queue). */
  keys(queue: string): QueueKeys {
    let keys = this.#keys.get(queue);
    if (!keys) {
      keys = queueKeys(this.prefix, queue);
      this.#keys.set(queue, keys);
    }
    return keys;
  }

  /** Records the queue name for `listQueues` (once per instance; rides along with the caller's round trip). */
  register(queue: string): void {
    if (this.#registered.has(queue)) return;
    // Read the client first: before connect() it throws, and the queue must not count as registered.
    const client = this.client;
    this.#registered.add(queue);
    void client
      .sadd(queuesRegistryKey(this.prefix), queue)
      .catch(() => this.#registered.delete(queue));
  }
}
