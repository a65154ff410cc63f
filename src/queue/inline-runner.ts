/**
 * @module queue/inline-runner
 * Runs tasks in the adding process, with no worker, for a backend that asks
 * for it (`instantProcessing`, the memory backend's default). The backend
 * only stores and says when work appears; this runner claims it and runs it
 * through the same attempt pipeline a worker uses (same middleware,
 * dependency overrides, rate limits, fencing and settle). `queue.add()` waits
 * for the queue to run dry, so a task added is done when `add` returns
 * (retries and chained tasks that are due at once included); a task that
 * waits for a time runs when its time comes, on the backend's clock.
 */
import type { Backend, InlineProcessing } from "../backends/backend.js";
import type { Timer } from "../clock.js";
import { SheppyError } from "../errors.js";
import { type Attempt, AttemptPipeline } from "../execution/attempt-pipeline.js";
import { createExecutionEnvironment } from "../execution/execution-environment.js";
import { inSandboxThread } from "../execution/sandbox-thread-mark.js";
import { defaultLogger, type Logger } from "../observability/logger.js";
import {
  countAttemptEnd,
  defaultTaskMetrics,
  startLatencySeconds,
} from "../observability/task-metrics.js";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "../task/payload-limit.js";
import { MinHeap } from "../util/min-heap.js";

/** Claims up to this many tasks at a time when draining. */
const DRAIN_BATCH = 100;

const runners = new WeakMap<Backend, InlineRunner>();

const runningKey = (queue: string, id: string) => `${queue}\u0000${id}`;

/** The inline runner of `backend` (one per backend instance), or `undefined` when it runs nothing inline. */
export function inlineRunnerFor(backend: Backend): InlineRunner | undefined {
  const inline = backend.inline;
  if (!inline) return undefined;
  if (inSandboxThread()) {
    // As a Worker is refused there: a queue that runs its tasks in-process, made at the top level of
    // the module a sandbox thread imports, would run the sandboxed task again in another thread,
    // whose import makes another queue, without end.
    throw new SheppyError(
      "a queue that runs its tasks in-process (memory://, whose instantProcessing is on by default) made in a sandbox thread: the thread imports the module that defines its sandboxed task, and that module makes this queue at its top level (the program's entry script, most likely) — each thread would run the task again in another; define sandboxed tasks in a module of their own, or make the queue only where isMainThread (node:worker_threads) is true",
    );
  }
  let runner = runners.get(backend);
  if (!runner) {
    runner = new InlineRunner(backend, inline);
    runners.set(backend, runner);
  }
  return runner;
}

export class InlineRunner {
  readonly #pipelines = new Map<string, { pipeline: AttemptPipeline; maxPayloadBytes: number }>();
  /**
   * Each queue's payload limit, as the `Queue` that last drained it set it: a
   * drain a notification starts has no `Queue` at hand.
   */
  readonly #payloadLimits = new Map<string, number>();
  /** Due times each queue was told about, and the one timer armed for the earliest. */
  readonly #due = new Map<
    string,
    { times: MinHeap<null>; timer?: Timer | undefined; at?: number | undefined }
  >();
  /** The attempts running now, by queue and id (an inline attempt renews no claim to hear of a cancel). */
  readonly #running = new Map<string, Attempt>();
  /** Of each drain under way, the claims it holds that have not started yet, by queue and id. */
  readonly #waiting = new Set<Set<string>>();
  /** Queues with a drain scheduled or running (a notification then needs no new one). */
  readonly #busy = new Set<string>();
  readonly #logger: Logger;

  constructor(
    private readonly backend: Backend,
    private readonly inline: InlineProcessing,
  ) {
    this.#logger = inline.logger ?? defaultLogger();
    inline.watchWork({
      claimable: (queue) => this.#drainSoon(queue),
      due: (queue, at) => this.#wakeAt(queue, at),
      disconnected: () => this.#cancelTimers(),
    });
  }

  /**
   * Runs everything claimable in `queue`, until a claim comes back empty.
   * `maxPayloadBytes` is the calling queue's limit on results.
   */
  async drain(queue: string, maxPayloadBytes?: number): Promise<void> {
    if (maxPayloadBytes !== undefined) this.#payloadLimits.set(queue, maxPayloadBytes);
    const pipeline = this.#pipeline(queue);
    while (this.backend.isConnected) {
      const claimed = await this.backend.claim(queue, DRAIN_BATCH);
      if (claimed.length === 0) return;
      // Claimed ahead and waiting their turn: a cancel meanwhile takes one out (see `interrupt`).
      const waiting = new Set(claimed.map((claim) => runningKey(queue, claim.record.id)));
      this.#waiting.add(waiting);
      try {
        for (const claim of claimed) {
          if (!waiting.delete(runningKey(queue, claim.record.id))) continue;
          const end = await pipeline.process(
            claim,
            this.#running,
            runningKey(queue, claim.record.id),
          );
          if (end?.result === "unsettled")
            this.#logger.error(
              { err: end.settleError, queue, taskId: claim.record.id },
              "could not store an inline task's outcome",
            );
        }
      } finally {
        this.#waiting.delete(waiting);
      }
    }
  }

  /**
   * Fires the signal of the attempt of `id` in `queue` this runner is running;
   * one it claimed but has not started yet is not started at all (its claim
   * is no longer this runner's).
   */
  interrupt(queue: string, id: string, reason: Error): void {
    const key = runningKey(queue, id);
    this.#running.get(key)?.interrupt(reason);
    for (const waiting of this.#waiting) waiting.delete(key);
  }

  #drainSoon(queue: string): void {
    if (this.#busy.has(queue)) return;
    this.#busy.add(queue);
    setImmediate(() => {
      void this.drain(queue)
        .catch((error: unknown) =>
          this.#logger.error({ err: error, queue }, "inline processing failed"),
        )
        .finally(() => this.#busy.delete(queue));
    });
  }

  #wakeAt(queue: string, at: number): void {
    let due = this.#due.get(queue);
    if (!due) {
      due = { times: new MinHeap<null>() };
      this.#due.set(queue, due);
    }
    due.times.push(at, null);
    this.#arm(queue);
  }

  /** Arms one timer for the earliest due time `queue` was told about. */
  #arm(queue: string): void {
    const due = this.#due.get(queue);
    const next = due?.times.peekKey();
    if (!due || next === undefined || (due.at !== undefined && due.at <= next)) return;
    due.timer?.cancel();
    const { clock } = this.inline;
    due.at = next;
    due.timer = clock.setTimer(() => {
      due.timer = undefined;
      due.at = undefined;
      void this.#runDue(queue);
    }, next - clock.now());
  }

  async #runDue(queue: string): Promise<void> {
    const due = this.#due.get(queue);
    const now = this.inline.clock.now();
    while (due && (due.times.peekKey() ?? Number.POSITIVE_INFINITY) <= now) due.times.pop();
    try {
      if (this.backend.isConnected) await this.backend.promoteDue(queue, now);
    } catch (error) {
      this.#logger.error({ err: error, queue }, "inline processing could not promote due tasks");
    }
    this.#arm(queue);
  }

  #cancelTimers(): void {
    for (const due of this.#due.values()) due.timer?.cancel();
    this.#due.clear();
  }

  #pipeline(queue: string): AttemptPipeline {
    const { backend, inline } = this;
    const maxPayloadBytes =
      this.#payloadLimits.get(queue) ?? backend.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const cached = this.#pipelines.get(queue);
    if (cached !== undefined && cached.maxPayloadBytes === maxPayloadBytes) return cached.pipeline;
    const pipeline = new AttemptPipeline({
      queue,
      store: backend,
      environment: createExecutionEnvironment(queue, {
        ...inline,
        maxPayloadBytes,
        workflows: backend,
      }),
      settle: async (settlement, now) => (await backend.settle(queue, [settlement], now))[0]!,
      // Inline attempts have no worker to emit events: they count into the metrics here.
      hooks: {
        started: ({ record }) => {
          const latency = startLatencySeconds(record);
          if (latency !== null) {
            defaultTaskMetrics.startLatency.observe({ queue, task: record.name }, latency);
          }
        },
        settled: (_claim, end) => {
          if (end.result === "lost" || end.result === "unsettled") return;
          countAttemptEnd(defaultTaskMetrics, queue, end.record, end.durationMs);
        },
      },
      onHookError: (error, stage) =>
        this.#logger.error({ err: error, queue, stage }, "an inline processing hook threw"),
    });
    this.#pipelines.set(queue, { pipeline, maxPayloadBytes });
    return pipeline;
  }
}
