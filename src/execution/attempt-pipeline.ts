/**
 * @module execution/attempt-pipeline
 * The one path a claimed task takes to a settled record:
 *
 *   rate gate → run (middleware, dependencies, the function, inline or in a
 *   sandbox thread) → outcome → settle
 *
 * The Worker, inline processing (`memory://`) and `TestQueue` all run their
 * attempts through it; they differ only in where claims come from, which
 * clock they read, and how settlements reach the backend (a worker batches
 * them). Each stage calls a hook — the seams for events, tracing spans,
 * releasing a per-key concurrency slot, resuming a workflow. Nothing a task
 * throws, and nothing a hook throws, escapes: every attempt ends settled,
 * lost (its claim was taken over) or unsettled (the backend could not be
 * written, reported to the caller), never as an unhandled rejection.
 */
import type {
  ClaimedTask,
  RateLimitStore,
  RetentionSettings,
  Settlement,
  SettleResult,
} from "../backends/backend.js";
import { WorkerCrashedError } from "../errors.js";
import type { TaskData } from "../task/task-record.js";
import { expiryOf } from "../task/ttl.js";
import { identifyChildren } from "./chained-tasks.js";
import { type AttemptOutcome, type ExecutionEnvironment, startAttempt } from "./execute-task.js";
import { failedRecord, requeuedRecord } from "./outcome.js";
import { passRateLimit } from "./rate-gate.js";

/**
 * Sends one settlement to the backend (directly, or batched with others),
 * made at `now` on the pipeline's clock. Rejects only when it gave up.
 */
export type Settler = (settlement: Settlement, now: number) => Promise<SettleResult>;

/** How an attempt ended once its outcome went to the backend. */
export interface AttemptEnd {
  /** The record sent to be settled. */
  readonly record: TaskData;
  /** `settled`; `lost` (the claim was taken over, the outcome was discarded); `unsettled` (the backend could not be written). */
  readonly result: SettleResult | "unsettled";
  /** What the attempt threw, when it failed. */
  readonly error?: unknown;
  /** Why settling failed, when `unsettled`. */
  readonly settleError?: unknown;
  /** Milliseconds from the start of the attempt until its function returned. */
  readonly durationMs: number;
}

/** Seams around each stage; all optional, called in order, never allowed to break the attempt. */
export interface AttemptHooks {
  /** The attempt passed its rate limit and starts now. */
  started?(claim: ClaimedTask): void;
  /** The function returned or threw (a slot may be freed now); its outcome is being settled. */
  executed?(claim: ClaimedTask, outcome: AttemptOutcome): void;
  /** The attempt's outcome reached the backend (or could not). */
  settled?(claim: ClaimedTask, end: AttemptEnd): void;
  /** The claim was over its rate limit: settled back as `scheduled`, not run (not an attempt). */
  deferred?(claim: ClaimedTask, record: TaskData, result: SettleResult | "unsettled"): void;
}

export interface AttemptPipelineOptions {
  readonly queue: string;
  /** What the pipeline reads from the backend itself: retention, to resolve expiry; rate limits. */
  readonly store: RateLimitStore & { readonly retention: RetentionSettings };
  readonly environment: ExecutionEnvironment;
  readonly settle: Settler;
  readonly hooks?: AttemptHooks | undefined;
  /** A rate-limit check could not reach the backend (the task is put off a little). */
  readonly onRateCheckError?: ((error: unknown) => void) | undefined;
  /** A hook threw (it did not change the attempt). */
  readonly onHookError?: ((error: unknown, stage: string) => void) | undefined;
}

/** An attempt in flight. */
export interface Attempt {
  readonly id: string;
  /** The fence the outcome will be settled under (it changes if this holder takes its own expired claim back). */
  readonly fence: number;
  /** Resolves once the function has returned or thrown. */
  readonly executed: Promise<void>;
  /** Resolves once the outcome went to the backend; `null` when the attempt was abandoned. */
  readonly settled: Promise<AttemptEnd | null>;
  /** Fires the task's AbortSignal with `reason` (the function decides whether to stop). */
  interrupt(reason: Error): void;
  /** Takes a new fence for the same attempt: this holder took its own expired claim back. */
  adopt(fence: number): void;
  /** Interrupts the attempt, drops its outcome, and settles the task back as pending (shutdown). */
  abandon(reason: Error): Promise<SettleResult | "unsettled">;
}

/** Claims sorted by their rate limits. */
export interface Admission {
  /** May start now (their start is counted). */
  readonly admitted: ClaimedTask[];
  /** How many were put off. */
  readonly deferredCount: number;
  /** Resolves once every put-off claim is settled back. */
  readonly deferrals: Promise<void>;
}

export class AttemptPipeline {
  constructor(private readonly options: AttemptPipelineOptions) {}

  get queue(): string {
    return this.options.queue;
  }

  /**
   * The rate gate for a batch of claims, checked in claim order in one round
   * (the oldest claims get the free starts). Claims over their limit are
   * settled back as `scheduled` for their slot; claims without a limit pass
   * without a backend call.
   */
  async admit(claims: readonly ClaimedTask[]): Promise<Admission> {
    const limited = claims.filter(
      (claim) => claim.record.config.rateLimit && claim.record.finishedAt === null,
    );
    if (limited.length === 0)
      return { admitted: [...claims], deferredCount: 0, deferrals: Promise.resolve() };
    const { store, queue, environment } = this.options;
    const now = environment.clock.now();
    let reported = false;
    const onError = (error: unknown) => {
      // One report per batch: an outage fails every check of it alike.
      if (reported) return;
      reported = true;
      this.options.onRateCheckError?.(error);
    };
    const verdicts = await Promise.all(
      limited.map((claim) => passRateLimit(store, queue, claim.record, now, onError)),
    );
    const putOff = new Map<ClaimedTask, TaskData>();
    limited.forEach((claim, i) => {
      const deferred = verdicts[i];
      if (deferred) putOff.set(claim, deferred);
    });
    const deferrals = [...putOff].map(async ([claim, record]) => {
      const result = await this.#send(claim.fence, record, [], null).then(
        (r) => r,
        () => "unsettled" as const,
      );
      this.#hook("deferred", () => this.options.hooks?.deferred?.(claim, record, result));
    });
    return {
      admitted: claims.filter((claim) => !putOff.has(claim)),
      deferredCount: putOff.size,
      deferrals: Promise.all(deferrals).then(() => undefined),
    };
  }

  /** Runs an admitted claim; the returned attempt settles itself when the function ends. */
  start(claim: ClaimedTask): Attempt {
    const { environment, hooks } = this.options;
    const startedAt = environment.clock.now();
    let fence = claim.fence;
    let abandoned = false;
    // A record the backend could not read arrives as its failed stand-in: settle it as it is.
    const running =
      claim.record.finishedAt === null
        ? startAttempt(claim.record, environment)
        : {
            outcome: Promise.resolve({ record: claim.record, children: [] }),
            interrupt: () => undefined,
          };
    this.#hook("started", () => hooks?.started?.(claim));
    const outcome = running.outcome.catch(
      (error: unknown): AttemptOutcome => ({
        record: failedRecord(claim.record, error, environment.clock.now(), "error"),
        children: [],
        error,
      }),
    );
    const settled = outcome.then(async (result): Promise<AttemptEnd | null> => {
      const durationMs = environment.clock.now() - startedAt;
      this.#hook("executed", () => hooks?.executed?.(claim, result));
      if (abandoned) return null;
      const end = await this.#end(fence, result, durationMs);
      this.#hook("settled", () => hooks?.settled?.(claim, end));
      return end;
    });
    const pipeline = this;
    return {
      id: claim.record.id,
      get fence() {
        return fence;
      },
      executed: outcome.then(() => undefined),
      settled,
      interrupt: (reason) => running.interrupt(reason),
      adopt: (next) => {
        fence = next;
      },
      abandon(reason) {
        abandoned = true;
        running.interrupt(reason);
        return pipeline.requeue({ record: claim.record, fence });
      },
    };
  }

  /** Gate, run and settle one claim; `null` when its rate limit put it off. */
  async process(claim: ClaimedTask): Promise<AttemptEnd | null> {
    const { admitted, deferrals } = await this.admit([claim]);
    await deferrals;
    if (admitted.length === 0) return null;
    return this.start(claim).settled;
  }

  /** Settles a claim back as pending without an attempt (claimed while stopping, or interrupted at shutdown). */
  requeue(claim: ClaimedTask): Promise<SettleResult | "unsettled"> {
    return this.#send(claim.fence, requeuedRecord(claim.record), [], null).catch(
      () => "unsettled" as const,
    );
  }

  /** Ends a claim whose holder stopped renewing it: `crashed`, or `retrying` with `retryOnCrash`. */
  async crash(claim: ClaimedTask): Promise<AttemptEnd> {
    const { record } = claim;
    const now = this.options.environment.clock.now();
    const ended =
      record.finishedAt === null
        ? failedRecord(record, new WorkerCrashedError(), now, "crash")
        : record;
    return this.#end(claim.fence, { record: ended, children: [] }, 0);
  }

  async #end(fence: number, outcome: AttemptOutcome, durationMs: number): Promise<AttemptEnd> {
    let { record } = outcome;
    let children = outcome.children;
    if (children.length > 0) ({ record, children } = identifyChildren(record, children, fence));
    const now = this.options.environment.clock.now();
    const expiresAt =
      record.finishedAt === null ? null : expiryOf(record, this.options.store.retention, now);
    const base = { record, durationMs, ...("error" in outcome ? { error: outcome.error } : {}) };
    try {
      return { ...base, result: await this.#send(fence, record, children, expiresAt) };
    } catch (settleError) {
      return { ...base, result: "unsettled", settleError };
    }
  }

  #send(
    fence: number,
    record: TaskData,
    children: readonly TaskData[],
    expiresAt: number | null,
  ): Promise<SettleResult> {
    return this.options.settle(
      { fence, record, children, expiresAt },
      this.options.environment.clock.now(),
    );
  }

  #hook(stage: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.onHookError?.(error, stage);
    }
  }
}
