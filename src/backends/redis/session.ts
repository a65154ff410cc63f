/**
 * @module backends/redis/session
 * What every part of the Redis backend shares: the connection state, the key
 * set of each queue, the registry of queue names, and the one way to talk to
 * Redis — {@link RedisSession.call}.
 *
 * Every call is bounded in time. Commands are not queued while the
 * connection is down (a claim queued for later would claim tasks nobody then
 * runs): a call made then, or whose connection drops before it answers, is
 * sent again once Redis is reachable — when sending it again is safe — until
 * it gets through or `unavailableAfterMs` passes; then it fails with
 * `BackendUnavailableError`, the cause kept. A command sent to a server that
 * does not answer (paused, overloaded) times out after the same bound. What
 * Redis itself refuses becomes a typed error too: out of memory is
 * `BackendFullError`; anything else `BackendError`. So no raw driver error
 * leaves the backend.
 */
import type { ChainableCommander, ClusterOptions, RedisOptions } from "ioredis";
import { BackendError, BackendFullError, BackendUnavailableError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { maskUrl } from "../../util/mask-url.js";
import { KnownDown } from "../known-down.js";
import { notConnectedError } from "../not-connected.js";
import { requestToken } from "../request-token.js";
import type { ClusterTarget } from "./cluster-url.js";
import { type RedisClient, RedisConnections } from "./connections.js";
import { type QueueKeys, queueKeys, queuesRegistryKey } from "./keys.js";
import {
  defineScripts,
  type ReplicaWait,
  runAndWait,
  type ScriptName,
  type ScriptRunner,
} from "./scripts.js";

/** Arguments after the keys of a script call. */
export type ScriptArgs = readonly (string | number)[];

/**
 * When a call may be sent again after a connection problem:
 * - `always`: repeating it changes nothing (reads, and scripts that recognise
 *   a resend by a request token or by fences);
 * - `unsent`: only when it surely never reached Redis (it would act twice).
 */
export type Resend = "always" | "unsent";

/**
 * Scripts that must not act twice and cannot tell a resend from a new call.
 * A claim is among them: one whose answer was lost is named by the next
 * claim instead, which puts its tasks back (see `claims.ts`).
 */
const SEND_ONCE: ReadonlySet<ScriptName> = new Set(["deleteTask", "rateLimit", "claim"]);

/**
 * Scripts a worker's loops call, each with its own retry and backoff: they
 * wait for Redis only briefly (`FAIL_FAST_MS` of `../known-down.ts`) instead of the full bound, so
 * a worker asked to stop is never held up by one of its own calls, while a
 * connection cut and re-made at once (a `CLIENT KILL`, a proxy's reset) is
 * ridden out without a failure.
 */
const FAIL_FAST: ReadonlySet<ScriptName> = new Set([
  "claim",
  "settle",
  "renew",
  "reclaim",
  "promoteDue",
  "rateLimit",
  "appendEvents",
]);

/**
 * The scripts whose writes an application is told about (an add, a settled
 * outcome, a cancel): with `waitReplicas`, each answers only once replicas
 * have its writes.
 */
const CONFIRMED: ReadonlySet<ScriptName> = new Set([
  // A claim too: one the new master never heard of would hand its tasks to a second worker.
  "claim",
  "add",
  "addDeduplicated",
  "addWorkflow",
  "settle",
  "cancel",
  "cancelWorkflow",
  "retryWorkflow",
]);

/**
 * @internal The cause of a write Redis applied but too few replicas
 * confirmed (`waitReplicas`): a claim failing so is named by the next claim,
 * which puts its tasks back, as one whose answer was lost.
 */
export class UnconfirmedWrite extends Error {}

/**
 * The call never left this process (Redis was not connected when it was
 * made), or a cluster refused it without running it: its slot has no master
 * right now (CLUSTERDOWN, MASTERDOWN), it reached a replica (READONLY) or a
 * node that no longer serves the slot (MOVED, ASK: a pipeline after a
 * failover, which ioredis does not redirect), the slot is moving (TRYAGAIN),
 * or the client lost track of the cluster.
 */
const UNSENT =
  /Stream isn't writeable|enableOfflineQueue|Connection in subscriber mode|^(CLUSTERDOWN|MASTERDOWN|READONLY|TRYAGAIN|LOADING|MOVED|ASK) |Failed to refresh slots cache|None of startup nodes is available|No subscriber for the cluster/;
/** ioredis gave up redirecting a command on a cluster: what counts is the last error it saw. */
const REDIRECTIONS = /^Too many Cluster redirections\. Last error: (?:\w*Error: )?/;
/** The connection failed while the call was out: whether Redis applied it is unknown. */
const DROPPED =
  /Connection is closed|Command aborted due to connection close|Command timed out|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTCONN|EHOSTUNREACH|socket hang up|MaxRetriesPerRequest/;

type Failure = "unsent" | "dropped" | "refused";

/** The call was sent and the connection stayed up, but no answer came within the command timeout. */
function timedOut(error: unknown): boolean {
  return error instanceof Error && /Command timed out/.test(error.message);
}

/** A cluster's redirection of a command to another node. */
function redirected(error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK) \d+ /.test(error.message);
}

/**
 * @internal What a failed call tells about whether Redis received it: never
 * sent, dropped on the way (sent again when that is safe), or refused by Redis.
 */
export function classify(error: unknown): Failure {
  if (!(error instanceof Error)) return "refused";
  if (REDIRECTIONS.test(error.message)) {
    return classify(new Error(error.message.replace(REDIRECTIONS, "")));
  }
  if (UNSENT.test(error.message)) return "unsent";
  if (error.name === "MaxRetriesPerRequestError" || DROPPED.test(error.message)) return "dropped";
  return "refused";
}

/** Runs the commands `build` queues as one pipeline (one round trip); throws the first error. */
export async function runBatch<T>(
  client: RedisClient,
  build: (pipeline: ChainableCommander) => unknown,
  /** What a command's error stands for in the replies; without it (or when it throws), the error is thrown. */
  onError?: (error: Error) => T,
): Promise<T[]> {
  const pipeline = client.pipeline();
  build(pipeline);
  if (pipeline.length === 0) return [];
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, reply]) => {
    if (error) {
      if (onError) return onError(error);
      throw error;
    }
    return reply as T;
  });
}

/**
 * One command per queue, all sent at once (they share the round trip as a
 * pipeline would). Not a pipeline: on a cluster each queue lives on its own
 * slot, and one pipeline may only address one.
 */
export function perQueue<T>(
  names: readonly string[],
  command: (name: string) => Promise<T>,
): Promise<T[]> {
  return Promise.all(names.map(command));
}

/** How often a queue in use is recorded in the registry again (see `register`). */
const REGISTER_AGAIN_MS = 30_000;

/** One backend instance's connections, scripts and per-queue keys. */
export class RedisSession {
  readonly connections: RedisConnections;
  readonly #keys = new Map<string, QueueKeys>();
  /** When each queue was last recorded in the registry (ms, this process's clock). */
  readonly #registered = new Map<string, number>();
  readonly #maskedUrl: string;
  #run: ScriptRunner | undefined;
  #connecting: Promise<void> | undefined;
  #connected = false;
  /** Disconnected since it last connected (a call then is told so, not to connect first). */
  #closed = false;
  /** Whether Redis is known to be down: callers' calls then try only briefly. */
  readonly #knownDown: KnownDown;

  constructor(
    readonly prefix: string,
    url: string,
    redisOptions: RedisOptions,
    logger: Logger,
    /** How long a call keeps trying while Redis cannot be reached, in ms. */
    readonly unavailableAfterMs: number,
    cluster?: { target: ClusterTarget; options: ClusterOptions },
    /** Replicas that must have an add's or a settle's writes before it answers (none when absent). */
    private readonly replicaWait?: ReplicaWait,
  ) {
    this.#maskedUrl = maskUrl(url);
    this.#knownDown = new KnownDown(unavailableAfterMs);
    this.connections = new RedisConnections(url, redisOptions, logger, unavailableAfterMs, cluster);
  }

  /** The URL the session connects to, its password masked (for messages). */
  get maskedUrl(): string {
    return this.#maskedUrl;
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
        this.#closed = false;
        this.#knownDown.reached();
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  /** Ends a first connect under way, which then fails (see `RedisConnections.abandonOpening`). */
  abandonConnect(): void {
    if (this.#connecting) this.connections.abandonOpening();
  }

  async disconnect(): Promise<void> {
    // A connect under way would otherwise finish after this returned, leaving its connections
    // open; ended now, not waited out on a server that does not answer.
    if (this.#connecting) {
      this.abandonConnect();
      await this.#connecting.catch(() => undefined);
    }
    if (!this.#connected) return;
    this.#connected = false;
    this.#closed = true;
    this.#run = undefined;
    this.connections.interruptBlocking();
    await this.connections.close();
  }

  /** Throws `BackendError` when the backend is not connected. */
  assertConnected(): void {
    if (!this.#connected) throw notConnectedError("Redis backend", this.#closed);
  }

  /**
   * Runs `operation` on the main connection, within the time bound; `what`
   * names it in errors. See the module header for what is retried. With
   * `wait` false, a call that cannot reach Redis fails within 1 s (see `../known-down.ts`).
   */
  async call<T>(
    what: string,
    operation: (client: RedisClient) => Promise<T>,
    resend: Resend = "always",
    wait = true,
  ): Promise<T> {
    const bound = this.#knownDown.bound(wait);
    const deadline = Date.now() + bound.ms;
    for (;;) {
      this.assertConnected();
      try {
        const answer = await operation(this.connections.main);
        this.#knownDown.reached();
        return answer;
      } catch (error) {
        if (!this.#connected) throw this.#notConnected(error);
        if (!this.connections.isCluster && redirected(error)) throw this.#clusterNode(what, error);
        const failure = classify(error);
        if (failure === "refused") throw this.#refused(what, error);
        if (failure === "dropped" && resend === "unsent") {
          throw new BackendUnavailableError(
            timedOut(error)
              ? `${what}: ${this.#noAnswer()}; the call may or may not have been applied`
              : `${what}: the connection to Redis at ${this.#maskedUrl} dropped before it answered; the call may or may not have been applied`,
            { cause: error },
          );
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          const unreachable =
            !timedOut(error) && !(this.connections.isCluster && movingSlot(error));
          if (unreachable) this.#knownDown.gaveUp(bound);
          const downReason = this.#knownDown.reason(bound);
          throw new BackendUnavailableError(
            timedOut(error)
              ? // Sent and not answered: a paused server runs it once it resumes.
                `${what}: ${this.#noAnswer()}; a write may or may not have been applied, and may still be when the server answers`
              : this.connections.isCluster && movingSlot(error)
                ? `${what}: Redis Cluster at ${this.#maskedUrl} kept redirecting the call${bound.full ? ` for ${this.unavailableAfterMs / 1000} s` : ""}: the queue's slot is being moved to another node (resharding), or a failover is under way`
                : bound.full
                  ? `${what}: Redis at ${this.#maskedUrl} could not be reached within ${this.unavailableAfterMs / 1000} s`
                  : `${what}: Redis at ${this.#maskedUrl} cannot be reached${downReason === null ? "" : ` (${downReason})`}`,
            { cause: error },
          );
        }
        await this.connections.untilReady(Math.min(left, 1000));
        // Never retry without giving the event loop a turn: a connection can look ready while
        // its socket is already gone, and learning that is one of the loop's events. Without
        // the turn, retries that fail at once would spin on promises until the deadline.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * A redirection on a connection to one server: the server is a node of a
   * Redis Cluster, which a `redis://` URL cannot follow — sending again would
   * only be redirected again until the time bound.
   */
  #clusterNode(what: string, error: unknown): BackendError {
    return new BackendError(
      `${what}: Redis at ${this.#maskedUrl} is a node of a Redis Cluster (it answered ${(error as Error).message.split(" ")[0]}): use a redis+cluster:// URL naming its nodes`,
      { cause: error },
    );
  }

  /**
   * Runs a script within the time bound, sent again after a connection
   * problem unless it must act only once; `what` names it in errors when the
   * script serves more than one operation.
   */
  script(
    name: ScriptName,
    keys: readonly string[],
    args: ScriptArgs,
    what: string = name,
  ): Promise<unknown> {
    return this.call(
      what,
      // The scripts are defined on the main client when it connects.
      () => {
        if (!this.#run) throw new BackendError("Redis backend is not connected");
        const wait = this.replicaWait;
        if (wait && CONFIRMED.has(name)) {
          return this.connections.withWriter(
            (writer) => this.#runConfirmed(writer, name, keys, args, wait),
            defineScripts,
          );
        }
        return this.#run(name, keys, args);
      },
      SEND_ONCE.has(name) ? "unsent" : "always",
      !FAIL_FAST.has(name),
    );
  }

  async #runConfirmed(
    client: RedisClient,
    name: ScriptName,
    keys: readonly string[],
    args: ScriptArgs,
    wait: ReplicaWait,
  ): Promise<unknown> {
    const [answer, confirmed] = await runAndWait(client, name, keys, args, wait);
    if (confirmed < wait.replicas) {
      throw new BackendUnavailableError(
        `${name}: Redis at ${this.#maskedUrl} applied it, but only ${confirmed} of the ${wait.replicas} replicas asked for (waitReplicas) confirmed it within ${wait.timeoutMs} ms; a failover now could lose it`,
        { cause: new UnconfirmedWrite(`${confirmed} of ${wait.replicas} replicas confirmed`) },
      );
    }
    return answer;
  }

  /** A server that holds the connection but answers nothing: paused, or busy with one long command or script. */
  #noAnswer(): string {
    return `Redis at ${this.#maskedUrl} is connected but did not answer within ${this.unavailableAfterMs / 1000} s (paused, or busy with a long command or script)`;
  }

  #notConnected(cause: unknown): BackendError {
    return new BackendError("Redis backend was disconnected during the call", { cause });
  }

  #refused(what: string, error: unknown): BackendError {
    const message = error instanceof Error ? error.message : String(error);
    if (/^OOM /.test(message)) {
      return new BackendFullError(
        `${what}: Redis at ${this.#maskedUrl} is out of memory (maxmemory reached) and refuses new work; running tasks still finish`,
        { cause: error },
      );
    }
    if (error instanceof BackendError) return error;
    return new BackendError(`${what}: Redis refused the call: ${message.split("\n")[0]}`, {
      cause: error,
    });
  }

  /** A fresh request memo key: a script resent with it replays its first answer. */
  requestKey(k: QueueKeys): string {
    return `${k.request}${this.requestToken()}`;
  }

  /** A fresh random token naming one call, so a resend of it can be told from a new call. */
  requestToken(): string {
    return requestToken();
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

  /**
   * Records the queue name for `listQueues`, riding along with the caller's
   * round trip: at most once per {@link REGISTER_AGAIN_MS} per queue, so that
   * a Redis that lost its data (restarted without persistence, flushed) lists
   * a queue this process goes on using again soon after, not never.
   */
  register(queue: string): void {
    const now = Date.now();
    const last = this.#registered.get(queue);
    if (last !== undefined && now - last < REGISTER_AGAIN_MS) return;
    this.assertConnected();
    this.#registered.set(queue, now);
    void this.connections.main
      .sadd(queuesRegistryKey(this.prefix), queue)
      .catch(() => this.#registered.delete(queue));
  }
}

/**
 * Whether a cluster call failed because the cluster kept redirecting it: the
 * cluster client gives up after its redirections with the last one's reply
 * (TRYAGAIN while a slot's keys are split between two nodes, MOVED or ASK).
 */
function movingSlot(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return /Too many Cluster redirections|TRYAGAIN|^(MOVED|ASK) /.test(message);
}
