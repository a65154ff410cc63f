/**
 * What every contract case gets: a fresh backend per test, queues with names
 * unique to the test, workers that are closed after it, and capability-gated
 * `it`s whose skips name their reason.
 */

import { afterEach, beforeEach, it } from "vitest";
import type { Backend, BackendCapabilities, Clock, WorkerOptions } from "../index.js";
import { Queue, Worker } from "../index.js";
import { uniqueName } from "./support/isolation.js";

/**
 * What a case may ask of a fresh backend: a clock, and retention (TTLs in
 * seconds, `null` keeps forever; `maxFinished`, `maxFailed`). Options a case leaves out
 * must mean "keep finished records forever, unbounded", so that cases which
 * do not test retention never see records vanish.
 */
export interface BackendTestOptions {
  clock?: Clock;
  ttl?: number | null;
  errorTtl?: number | null;
  maxFinished?: number | null;
  maxFailed?: number | null;
  /** Most lifecycle events kept per queue (0: the event log is off); absent: the backend's default. */
  eventCap?: number;
  /**
   * Asks for a backend that runs tasks inline as they are added, when it can
   * (memory's `instantProcessing`); a backend that cannot ignores it.
   */
  instantProcessing?: boolean;
}

/**
 * Makes a new, unconnected backend for one test: instant processing off,
 * with these options, on storage where queues of different tests never
 * collide (a key prefix, a schema or a file of its own per test file).
 */
export type BackendFactory = (options: BackendTestOptions) => Backend;

/** How a backend's test entry describes the backend to the suite. */
export interface BackendUnderTest {
  name: string;
  capabilities: BackendCapabilities;
  /** Whether asking for `instantProcessing` gives a backend that runs tasks inline. */
  inline: boolean;
  /** Whether the backend has the optional `nextDueAt`. */
  reportsNextDue?: boolean;
  /** Whether the backend has the optional `claimLeases`. */
  reportsClaimLeases?: boolean;
  /** Whether the backend has the optional worker directory (`announceWorker`, `listWorkers`, `withdrawWorker`). */
  listsWorkers?: boolean;
  create: BackendFactory;
}

export interface ContractHarness {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** This test's backend, connected. */
  backend(): Promise<Backend>;
  /** A Queue on this test's backend, named uniquely for this test; with options, on a fresh backend built with them. */
  queue(options?: BackendTestOptions): Queue;
  /**
   * A queue on a second backend instance of the same server, with its own connections, in this
   * same process (it stands in for another process); memory: the same instance. Pass the first
   * queue's `clock` when it has one, so both instances share the time.
   */
  sibling(queue: Queue, options?: { clock?: Clock }): Queue;
  /** A Worker with test timings (50 ms scheduler, 100 ms claim wait), closed after the test. */
  worker(queues: Queue | Queue[], options?: WorkerOptions): Worker;
  /** `it` when the backend has `capability`, else a skip that states `reason`. */
  itIf(capability: keyof BackendCapabilities, reason: string): ContractIt;
  /** `it` when the backend can run tasks inline (see {@link BackendTestOptions.instantProcessing}), else a stated skip. */
  itIfInline(reason: string): ContractIt;
  /** `it` when the backend has the optional `nextDueAt`, else a stated skip. */
  itIfReportsNextDue(reason: string): ContractIt;
  /** `it` when the backend has the optional `claimLeases`, else a stated skip. */
  itIfReportsClaimLeases(reason: string): ContractIt;
  /** `it` when the backend has the optional worker directory, else a stated skip. */
  itIfListsWorkers(reason: string): ContractIt;
}

/**
 * The `it` a gated case gets: a name, the test, and a timeout in ms. Typed
 * here rather than as Vitest's own, so that a backend author importing the
 * contract's types does not need Vitest's declarations.
 */
export type ContractIt = (name: string, test: () => unknown, timeout?: number) => void;

/**
 * The one way a contract case is skipped: the backend lacks what the case
 * needs, and the skipped test's name carries the reason (e.g. leases on the
 * in-process memory backend).
 */
function skipping(backend: string, reason: string): ContractIt {
  return (name, test, timeout) =>
    it.skip(`${name} — skipped on ${backend}: ${reason}`, test, timeout);
}

export function createHarness(target: BackendUnderTest): ContractHarness {
  let backends: Backend[] = [];
  let queues: Queue[] = [];
  let workers: Worker[] = [];
  let primary: Backend | undefined;

  const fresh = (options: BackendTestOptions = {}) => {
    // Retention a case does not mention is "keep forever", so records never vanish under a case.
    const mentions = "ttl" in options || "errorTtl" in options;
    const backend = target.create({
      ...(mentions ? {} : { ttl: null, errorTtl: null }),
      maxFinished: null,
      maxFailed: null,
      instantProcessing: false,
      ...options,
    });
    backends.push(backend);
    return backend;
  };

  beforeEach(() => {
    primary = undefined;
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close({ force: true })));
    for (const queue of queues) {
      if (queue.backend.isConnected) await queue.clear().catch(() => undefined);
    }
    await Promise.all(backends.map((b) => b.disconnect()));
    backends = [];
    queues = [];
    workers = [];
  });

  const harness: ContractHarness = {
    name: target.name,
    capabilities: target.capabilities,
    async backend() {
      primary ??= fresh();
      if (!primary.isConnected) await primary.connect();
      return primary;
    },
    queue(options = {}) {
      const custom = Object.keys(options).length > 0;
      if (!custom) primary ??= fresh();
      const backend = custom ? fresh(options) : primary!;
      const queue = new Queue(backend, {
        name: uniqueName("q"),
        ...(options.clock ? { clock: options.clock } : {}),
      });
      queues.push(queue);
      return queue;
    },
    sibling(queue, options = {}) {
      const backend = target.capabilities.crossProcess
        ? fresh(options.clock ? { clock: options.clock } : {})
        : queue.backend;
      const other = new Queue(backend, {
        name: queue.name,
        ...(options.clock ? { clock: options.clock } : {}),
      });
      queues.push(other);
      return other;
    },
    worker(list, options = {}) {
      const worker = new Worker(list, {
        schedulerInterval: 0.05,
        claimWait: 0.1,
        // Cases fail tasks on purpose: their lines would bury the suite's own output.
        logTasks: false,
        ...options,
      });
      workers.push(worker);
      return worker;
    },
    itIf(capability, reason) {
      return target.capabilities[capability] ? it : skipping(target.name, reason);
    },
    itIfInline(reason) {
      return target.inline ? it : skipping(target.name, reason);
    },
    itIfReportsNextDue(reason) {
      return target.reportsNextDue ? it : skipping(target.name, reason);
    },
    itIfReportsClaimLeases(reason) {
      return target.reportsClaimLeases ? it : skipping(target.name, reason);
    },
    itIfListsWorkers(reason) {
      return target.listsWorkers ? it : skipping(target.name, reason);
    },
  };
  return harness;
}
