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
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { BackendUnavailableError } from "../../errors.js";
import type { Logger } from "../../observability/logger.js";
import { maskUrl } from "../../util/mask-url.js";
import { explainSeeds } from "./cluster-seeds.js";
import type { ClusterNode, ClusterTarget } from "./cluster-url.js";
import {
  checkRedisUrl,
  closedBeforeAnswer,
  connectFirst,
  withoutSecrets,
} from "./connection-errors.js";

/** A connection to one server, or a cluster client that routes each command to its slot's master. */
export type RedisClient = Redis | Cluster;

/** The driver's classes, loaded on first use (never by `memory://`). */
export async function loadIoredis(): Promise<{
  Redis: typeof import("ioredis").Redis;
  Cluster: typeof import("ioredis").Cluster;
  Command: typeof import("ioredis").Command;
}> {
  try {
    const module = await import("ioredis");
    return { Redis: module.Redis, Cluster: module.Cluster, Command: module.Command };
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
const readyWaiters = new WeakMap<RedisClient, Set<() => void>>();

/**
 * How long a call waits before it is sent again on a cluster whose client
 * still says ready: while a failed master's replica is being promoted, its
 * slots answer nothing useful, and an immediate resend would only spin.
 */
const CLUSTER_RETRY_PAUSE_MS = 100;

function isClientReady(client: RedisClient): boolean {
  // "ready" with a socket that can no longer be written is a connection about to be reported closed.
  const writable = "stream" in client ? client.stream?.writable !== false : true;
  return client.status === "ready" && writable;
}

/**
 * @internal Resolves once `client` is ready, or after `ms`. During an outage
 * every call of the backend waits here; they share one listener, so a busy
 * process does not pile up listeners (and Node's leak warning) on the client.
 */
export function untilClientReady(client: RedisClient, ms: number): Promise<void> {
  if (isClientReady(client)) return Promise.resolve();
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

/** How often a connect that waits for a master's connection asks the cluster for its slots again. */
const MASTERS_REFRESH_MS = 500;
/** The hash slots of a Redis Cluster. */
const CLUSTER_SLOTS = 16_384;

/** Whether every hash slot has a node serving it in the slots `cluster` read. */
function slotsAssigned(cluster: Cluster): boolean {
  const { slots } = cluster;
  if (slots.length < CLUSTER_SLOTS) return false;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    if (!slots[slot]?.length) return false;
  }
  return true;
}

/**
 * Resolves `true` once every hash slot has a master and the connection to
 * every master `cluster` knows of is ready; `false` when, after `withinMs`,
 * some slot still has none (a cluster not created, or not fully assigned).
 * With every slot assigned it resolves `true` after `withinMs` too: the calls
 * themselves ride out a master still down. The masters are read again as
 * the cluster's view changes — a master killed before this process started
 * stays in the slots its replicas report until one of them takes over — and
 * the slots are asked for again meanwhile, so the new master is known as
 * soon as it serves.
 */
function clusterServing(cluster: Cluster, withinMs: number): Promise<boolean> {
  const ready = () =>
    slotsAssigned(cluster) && cluster.nodes("master").every((node) => node.status === "ready");
  if (ready()) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const watched = new Set<Redis>();
    const check = () => {
      if (ready()) finish(true);
    };
    const watch = () => {
      for (const node of cluster.nodes("master")) {
        if (watched.has(node)) continue;
        watched.add(node);
        node.on("ready", check);
        // A node connection not opened yet (lazy) opens only when asked to.
        if (node.status === "wait") node.connect().catch(() => undefined);
      }
      check();
    };
    const refresh = setInterval(() => {
      cluster.refreshSlotsCache(() => watch());
    }, MASTERS_REFRESH_MS);
    const bound = setTimeout(() => finish(slotsAssigned(cluster)), withinMs);
    const finish = (serving: boolean) => {
      clearInterval(refresh);
      clearTimeout(bound);
      cluster.off("+node", watch);
      cluster.off("-node", watch);
      cluster.off("refresh", watch);
      for (const node of watched) node.off("ready", check);
      resolve(serving);
    };
    cluster.on("+node", watch);
    cluster.on("-node", watch);
    cluster.on("refresh", watch);
    watch();
  });
}

/** Idle blocking connections kept for the next waits at least; one coming back to a full pool is closed. */
const MAX_IDLE_BLOCKING = 8;
/** How long a peak of blocking connections in use sets how many idle ones are kept. */
const BLOCKING_PEAK_MS = 60_000;

export class RedisConnections {
  #main: RedisClient | undefined;
  #subscriber: RedisClient | undefined;
  readonly #idleBlocking: RedisClient[] = [];
  readonly #allBlocking = new Set<RedisClient>();
  /** Blocking connections lent out now. */
  #blockingInUse = 0;
  /** The most lent out at once lately, and since when that has been the figure. */
  #blockingPeak = 0;
  #blockingPeakAt = 0;
  /** Set while idle connections above the floor wait for their peak's minute to pass. */
  #trimTimer: ReturnType<typeof setTimeout> | undefined;
  /** @internal How long a peak of blocking connections in use keeps as many idle (ms); tests shorten it. */
  blockingPeakMs = BLOCKING_PEAK_MS;
  readonly #idleWriters: RedisClient[] = [];
  readonly #allWriters = new Set<RedisClient>();
  #outage = false;
  #ClusterClient: typeof Cluster | undefined;
  /** The seeds the cluster clients start from: those whose host resolved at the first connect. */
  #seeds: ClusterNode[] | undefined;

  constructor(
    private readonly url: string,
    private readonly options: RedisOptions,
    private readonly logger: Logger,
    /** The longest a command may wait for its answer (ms). */
    readonly commandTimeoutMs: number,
    /** The seed nodes and credentials when the backend talks to a Redis Cluster. */
    private readonly cluster?: { target: ClusterTarget; options: ClusterOptions },
  ) {
    // When the backend is created, not at connect: a URL ioredis would misread is a usage error.
    if (!cluster) checkRedisUrl(url);
  }

  get main(): RedisClient {
    if (!this.#main) throw new BackendUnavailableError("Redis backend is not connected");
    return this.#main;
  }

  /** Whether the connections are cluster clients. */
  get isCluster(): boolean {
    return this.cluster !== undefined;
  }

  /** The client of a first connect under way, which {@link abandonOpening} closes. */
  #opening: { client: Redis; abandoned: boolean } | undefined;

  /**
   * Ends a first connect under way (a disconnect during it): its client is
   * closed now rather than left to wait out the handshake's bound on a server
   * that does not answer, and it is not tried again.
   */
  abandonOpening(): void {
    if (this.#opening === undefined) return;
    this.#opening.abandoned = true;
    const { client } = this.#opening;
    client.disconnect();
    // A paused server never closes its side: without this, the close waits out ioredis's
    // disconnectTimeout (2 s) for it.
    (client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }

  /** Opens the main connection; a failure is a one-line `BackendUnavailableError` naming its cause. */
  async open(): Promise<RedisClient> {
    if (this.cluster) return this.#openCluster();
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
      const opening = { client, abandoned: false };
      this.#opening = opening;
      try {
        await connectFirst(client, this.url, this.commandTimeoutMs);
        this.#main = client;
        return client;
      } catch (error) {
        // Any other failure says what is wrong at once (a refused port, a bad password, TLS).
        if (opening.abandoned || attempt >= FIRST_CONNECT_ATTEMPTS || !closedBeforeAnswer(error))
          throw error;
        await new Promise((resolve) => setTimeout(resolve, retryStrategy(attempt)));
      } finally {
        this.#opening = undefined;
      }
    }
  }

  async #openCluster(): Promise<Cluster> {
    const { Cluster, Redis } = await loadIoredis();
    this.#ClusterClient = Cluster;
    this.#seeds = await this.#resolvableSeeds();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#connectCluster(Redis);
      } catch (error) {
        // Every seed answered when asked again: the cluster client's slot read timed out on a
        // busy machine (many clients starting at once), not a fault to report. Try again.
        if (!(error instanceof SeedsHealthyError) || attempt >= FIRST_CONNECT_ATTEMPTS)
          throw error instanceof SeedsHealthyError ? error.failure : error;
        await new Promise((resolve) => setTimeout(resolve, retryStrategy(attempt)));
      }
    }
  }

  async #connectCluster(Redis: typeof import("ioredis").Redis): Promise<Cluster> {
    // Without ioredis's ready check, which asks one node for CLUSTER INFO and, while the cluster
    // fails over (its state "fail"), reconnects and leaves the first connect's promise unsettled:
    // the slots' owners and the masters' connections are waited for below instead.
    const client = this.#newCluster(
      { commandTimeout: this.commandTimeoutMs },
      { enableReadyCheck: false },
    );
    this.#watch(client);
    // ioredis goes on asking for the slots of a cluster that has none assigned yet (its nodes up,
    // `--cluster create` not run): without a bound the connect would never end, nor say why.
    const unassigned = () =>
      new Error(
        `no node gave the cluster's slots within ${this.commandTimeoutMs / 1000} s (is the cluster created, every slot assigned? redis-cli --cluster check)`,
      );
    let timer: NodeJS.Timeout | undefined;
    const unready = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unassigned()), this.commandTimeoutMs);
    });
    try {
      const started = Date.now();
      await Promise.race([client.connect(), unready]);
      clearTimeout(timer);
      // Connected means one node answered with the slots; the other masters' connections are
      // still opening, and a command sent to one of those now is refused unsent with "Connection
      // is closed." — which reads as a dropped call. The first calls wait for them instead, as
      // long as a call would wait for a master that fails over.
      if (!(await clusterServing(client, this.commandTimeoutMs - (Date.now() - started)))) {
        throw unassigned();
      }
    } catch (error) {
      client.disconnect();
      let cause = error instanceof Error ? error.message : String(error);
      // ioredis's words for every kind of bad seed: each seed says what it is instead.
      let seedsHealthy = false;
      if (/None of startup nodes is available/.test(cause)) {
        const { target, options } = this.cluster!;
        const explained = await explainSeeds(Redis, target.nodes, {
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
          ...this.options,
          ...options.redisOptions,
        });
        seedsHealthy = explained === undefined;
        cause =
          explained ??
          "every seed answered as a cluster node when asked again, but the cluster client could not read the slots from any in time (a busy machine or server?)";
      }
      const failure = new BackendUnavailableError(
        `cannot connect to Redis Cluster at ${maskUrl(this.url)}: ${cause.replace(/\s+/g, " ").replace(/\.$/, "")}`,
        { cause: withoutSecrets(error) },
      );
      throw seedsHealthy ? new SeedsHealthyError(failure) : failure;
    } finally {
      clearTimeout(timer);
    }
    this.#main = client;
    return client;
  }

  /**
   * The seeds whose host name resolves. The cluster client resolves every
   * seed before it connects and gives up if any one fails, so one seed
   * without a DNS record (a node that is down, in an orchestrator that
   * removes the records of stopped nodes) would stop every process from
   * starting; such seeds are left out, with a warning. None resolving is the
   * connect's error, naming each.
   */
  async #resolvableSeeds(): Promise<ClusterNode[]> {
    const { nodes } = this.cluster!.target;
    // An application's own resolver (clusterOptions.dnsLookup) decides by itself.
    if (this.cluster!.options.dnsLookup) return [...nodes];
    const troubles = await Promise.all(
      nodes.map(async ({ host, port }) => {
        if (isIP(host) !== 0) return undefined;
        try {
          await lookup(host);
          return undefined;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? "";
          return `${host}:${port}: unknown host (${code || String(error)})`;
        }
      }),
    );
    const usable = nodes.filter((_, i) => troubles[i] === undefined);
    const unknown = troubles.filter((trouble): trouble is string => trouble !== undefined);
    if (usable.length === 0) {
      throw new BackendUnavailableError(
        `cannot connect to Redis Cluster at ${maskUrl(this.url)}: no seed could be used as a cluster node: ${unknown.join("; ")}`,
      );
    }
    if (unknown.length > 0) {
      this.logger.warn(
        { url: maskUrl(this.url) },
        `left out of the cluster's seeds, their host names not resolving: ${unknown.join("; ")}`,
      );
    }
    return usable;
  }

  /**
   * A cluster client over the seed nodes. Node connections resend nothing by
   * themselves and a command whose node connection closes is not retried by
   * ioredis (`retryDelayOnFailover: 0`): as on one server, the session decides
   * what may be sent again. Redirections (MOVED, ASK) and a cluster that is
   * briefly down or busy (CLUSTERDOWN, TRYAGAIN) are ioredis's to retry: the
   * server refused those commands, so a retry can never apply one twice.
   */
  #newCluster(nodeOptions: RedisOptions, clusterOptions: ClusterOptions): Cluster {
    const Cluster = this.#ClusterClient!;
    const { target, options } = this.cluster!;
    return new Cluster(
      (this.#seeds ?? target.nodes).map(({ host, port }) => ({ host, port })),
      {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableAutoPipelining: false,
        retryDelayOnFailover: 0,
        clusterRetryStrategy: retryStrategy,
        ...options,
        ...clusterOptions,
        redisOptions: {
          ...(target.username ? { username: target.username } : {}),
          ...(target.password ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
          autoResendUnfulfilledCommands: false,
          ...this.options,
          ...options.redisOptions,
          ...nodeOptions,
        },
      },
    );
  }

  #watch(client: RedisClient): void {
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
      this.logger.warn({ url: maskUrl(this.url) }, "reconnected to Redis");
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
  async untilReady(ms: number): Promise<void> {
    const main = this.#main;
    if (!main) return;
    if (this.cluster) {
      // A pipeline goes where the client's slot map says, never learning of a failover by a
      // redirection as single commands do: ask the cluster again who serves each slot.
      for (const client of [main, ...this.#allWriters]) (client as Cluster).refreshSlotsCache();
      await new Promise((resolve) => setTimeout(resolve, CLUSTER_RETRY_PAUSE_MS));
    }
    await untilClientReady(main, ms);
  }

  /**
   * A further connection like the main one with `options` on top (on a
   * cluster, a further cluster client). One that queues nothing while
   * disconnected fails its unanswered commands when its connection closes,
   * as the main one does.
   */
  #companion(options: RedisOptions, queueWhileDown: boolean): RedisClient {
    const client = this.cluster
      ? this.#newCluster(options, { lazyConnect: false, enableOfflineQueue: queueWhileDown })
      : (this.main as Redis).duplicate({
          ...options,
          enableAutoPipelining: false,
          lazyConnect: false,
          enableOfflineQueue: queueWhileDown,
          ...(queueWhileDown ? {} : { autoResendUnfulfilledCommands: false }),
        });
    this.#watch(client);
    if (!queueWhileDown && !this.cluster) this.#failInFlightOnClose(client as Redis);
    return client;
  }

  /** A blocking connection: nothing queued while disconnected, and no blocking command outlives its wait by much. */
  #blockingClient(): RedisClient {
    return this.#companion(
      {
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
        blockingTimeout: this.commandTimeoutMs,
      },
      false,
    );
  }

  /**
   * The subscriber resubscribes by itself after a reconnect; its SUBSCRIBE may
   * wait for the connection. Without ioredis's ready check: ioredis (5.8.2 on)
   * can write a SUBSCRIBE queued during a reconnect ahead of the check's INFO,
   * which the server then refuses in subscriber mode — and the refusal fails
   * the SUBSCRIBE's call (a known ioredis bug). A server still loading its
   * data takes SUBSCRIBE, so the check guards nothing here.
   */
  #subscriberClient(): RedisClient {
    return this.#companion(
      {
        maxRetriesPerRequest: null,
        commandTimeout: this.commandTimeoutMs,
        enableReadyCheck: false,
      },
      true,
    );
  }

  /** Notes how many blocking connections are lent out; a peak older than a minute gives way to now's figure. */
  #notePeakBlocking(): void {
    const now = Date.now();
    if (
      this.#blockingInUse >= this.#blockingPeak ||
      now - this.#blockingPeakAt > this.blockingPeakMs
    ) {
      this.#blockingPeak = this.#blockingInUse;
      this.#blockingPeakAt = now;
    }
  }

  /** How many idle blocking connections are kept for reuse. */
  #keptBlocking(): number {
    return Math.max(MAX_IDLE_BLOCKING, this.#blockingPeak);
  }

  /**
   * Runs `fn` on a connection of its own (for a blocking command), returned to
   * the pool afterwards; waits at most `readyWithinMs` for that connection.
   */
  async withBlocking<T>(
    fn: (client: RedisClient) => Promise<T>,
    readyWithinMs = this.commandTimeoutMs,
    notReady?: () => T,
  ): Promise<T> {
    let client = this.#idleBlocking.pop();
    if (!client) {
      client = this.#blockingClient();
      this.#allBlocking.add(client);
    }
    this.#blockingInUse++;
    this.#notePeakBlocking();
    try {
      // A new (or reconnecting) connection queues nothing: wait until it can take the command.
      await untilClientReady(client, readyWithinMs);
      // Still connecting when the caller's wait is over (a loaded machine, a cluster still
      // discovering its slots): the wait is over, and no command is sent to fail.
      if (notReady && !isClientReady(client)) return notReady();
      return await fn(client);
    } finally {
      this.#blockingInUse--;
      this.#notePeakBlocking();
      // As many connections are kept for reuse as were in use at once lately (at least a few), so
      // steady waits on many queues (a worker over forty idle queues) reuse theirs instead of
      // opening one per wait, and a burst of waits (many event streams at once) leaves them
      // open only for a while.
      if (this.#allBlocking.has(client)) {
        if (this.#idleBlocking.length < this.#keptBlocking()) this.#idleBlocking.push(client);
        else this.discardBlocking(client);
      }
      this.#trimIdleBlocking();
    }
  }

  /**
   * Closes idle blocking connections beyond what the latest peak keeps. A
   * peak keeps more than the floor only for its minute: when no wait comes
   * to look again (the event streams of a burst have all left), a timer does.
   */
  #trimIdleBlocking(): void {
    while (this.#idleBlocking.length > this.#keptBlocking())
      this.discardBlocking(this.#idleBlocking.pop()!);
    if (this.#idleBlocking.length <= MAX_IDLE_BLOCKING || this.#trimTimer !== undefined) return;
    const wait = Math.max(0, this.#blockingPeakAt + this.blockingPeakMs - Date.now()) + 10;
    this.#trimTimer = setTimeout(() => {
      this.#trimTimer = undefined;
      this.#notePeakBlocking();
      this.#trimIdleBlocking();
    }, wait);
    this.#trimTimer.unref?.();
  }

  /**
   * Runs `fn` on a connection of its own, like the main one (same time
   * bound), returned to a pool afterwards: for a write followed by `WAIT`,
   * which holds its connection until replicas answer, so that lease renewals
   * and claims on the main connection never wait behind it. `prepare` runs
   * once on each new connection.
   */
  async withWriter<T>(
    fn: (client: RedisClient) => Promise<T>,
    prepare: (client: RedisClient) => void,
  ): Promise<T> {
    let client = this.#idleWriters.pop();
    if (!client) {
      client = this.#writerClient();
      prepare(client);
      this.#allWriters.add(client);
    }
    try {
      await untilClientReady(client, this.commandTimeoutMs);
      return await fn(client);
    } finally {
      if (this.#allWriters.has(client)) this.#idleWriters.push(client);
    }
  }

  #writerClient(): RedisClient {
    return this.#companion({ commandTimeout: this.commandTimeoutMs }, false);
  }

  /** The subscriber connection, created on first use. */
  subscriber(): RedisClient {
    this.#subscriber ??= this.#subscriberClient();
    return this.#subscriber;
  }

  async close(): Promise<void> {
    const clients = [
      this.#main,
      this.#subscriber,
      ...this.#allBlocking,
      ...this.#allWriters,
    ].filter((c): c is RedisClient => c !== undefined);
    this.#main = undefined;
    this.#subscriber = undefined;
    clearTimeout(this.#trimTimer);
    this.#trimTimer = undefined;
    this.#allBlocking.clear();
    this.#idleBlocking.length = 0;
    this.#allWriters.clear();
    this.#idleWriters.length = 0;
    await Promise.all(
      clients.map(async (client) => {
        // A connection that is down (or a server that does not answer) is dropped, not waited for.
        if (client.status !== "ready") {
          client.disconnect();
          return;
        }
        // Dropped after the wait without awaiting the QUIT's own answer: against a server that
        // stopped answering, ioredis settles it only seconds after the drop.
        let dropped: ReturnType<typeof setTimeout> | undefined;
        const waited = new Promise<void>((resolve) => {
          dropped = setTimeout(() => {
            client.disconnect();
            resolve();
          }, QUIT_WAIT_MS);
        });
        const quit = client.quit().then(
          () => undefined,
          () => client.disconnect(),
        );
        await Promise.race([quit, waited]);
        clearTimeout(dropped);
      }),
    );
  }

  /** Drops one waiting connection for good (its unanswered commands fail); the pool makes a new one when needed. */
  discardBlocking(client: RedisClient): void {
    this.#allBlocking.delete(client);
    client.disconnect();
  }

  /** Drops blocked connections at once (their waits end with an error). */
  interruptBlocking(): void {
    for (const client of this.#allBlocking) client.disconnect();
    this.#allBlocking.clear();
    this.#idleBlocking.length = 0;
  }
}

/** A cluster connect that failed though every seed answered when asked again: worth another try. */
class SeedsHealthyError extends Error {
  constructor(readonly failure: BackendUnavailableError) {
    super(failure.message);
  }
}
