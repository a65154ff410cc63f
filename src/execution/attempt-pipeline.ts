/**
 * @module execution/attempt-pipeline
 * The one path a claimed task takes to a settled record:
 *
 *   gates (an unknown name, an ended workflow, a rate limit) → run
 *   (middleware, dependencies, the function, inline or in a sandbox thread)
 *   → outcome → settle
 *
 * The Worker, inline processing (`memory://`) and `TestQueue` all run their
 * attempts through it; they differ only in where claims come from, which
 * clock they read, and how settlements reach the backend (a worker batches
 * them). Each stage calls a hook — the seams for events, releasing a per-key
 * concurrency slot, resuming a workflow. When an OpenTelemetry SDK is
 * registered, each attempt runs under its CONSUMER span
 * (`execution/attempt-span`): the function, middleware and every hook of the
 * attempt run in the span's context, so the task's own spans nest under it
 * and log lines written by hooks carry its trace id. Nothing a task
 * throws, and nothing a hook throws, escapes: every attempt ends settled,
 * lost (its claim was taken over) or unsettled (the backend could not be
 * written, reported to the caller), never as an unhandled rejection.
 */
import type {
  ClaimedTask,
  ClaimStore,
  EventLog,
  RateLimitStore,
  RetentionSettings,
  Settlement,
  SettleResult,
  WorkflowStore,
  WorkflowWrite,
} from "../backends/backend.js";
import { createdOn, systemClock } from "../clock.js";
import { WorkerCrashedError } from "../errors.js";
import {
  context,
  failSpan,
  injectCarrier,
  type Span,
  type StartedSpan,
  storedCarrier,
  TRACE_META_KEY,
} from "../observability/tracing.js";
import {
  eventBody,
  finishedWorkflowEvent,
  STARTED_MARK,
  type WrittenEventType,
} from "../task/lifecycle-event.js";
import { errorToData } from "../task/stored-error.js";
import { attemptNumber, type TaskData } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { expiryOf } from "../task/ttl.js";
import { resumeTaskFor, workflowOfStep } from "../task/workflow-resume-task.js";
import { sleepingRecord } from "../task/workflow-sleep.js";
import { endAttemptSpan, spanExecuted, startAttemptSpan } from "./attempt-span.js";
import { identifyChildren } from "./chained-tasks.js";
import { EventPublisher, startedBody, startsAsMark } from "./event-publisher.js";
import {
  type AttemptOutcome,
  type ExecutionEnvironment,
  type RunningAttempt,
  startAttempt,
} from "./execute-task.js";
import {
  failedRecord,
  failure,
  isUnstorable,
  requeuedRecord,
  unstorableRecord,
} from "./outcome.js";
import { ProgressReporter } from "./progress-reporter.js";
import { passRateLimit } from "./rate-gate.js";
import type { TaskReports } from "./run-context.js";
import { UnknownTaskGate } from "./unknown-task-gate.js";
import { isWorkflowStep, stepsOfEndedWorkflows } from "./workflow-gate.js";

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
  /** The function returned or threw (its slot may be freed now); its outcome is about to be settled. */
  executed?(claim: ClaimedTask, outcome: AttemptOutcome): void;
  /** The attempt's outcome, or a crashed claim's ending, reached the backend (or could not). */
  settled?(claim: ClaimedTask, end: AttemptEnd): void;
  /** The claim was over its rate limit: settled back as `scheduled`, not run (not an attempt). */
  deferred?(claim: ClaimedTask, record: TaskData, result: SettleResult | "unsettled"): void;
  /** The claim was a step of a workflow that has ended: settled as `cancelled`, not run (not an attempt). */
  cancelled?(claim: ClaimedTask, record: TaskData, result: SettleResult | "unsettled"): void;
  /** The task's reports (`progress()`, `log()`) were written to its running record. */
  progressed?(claim: ClaimedTask, record: TaskData): void;
  /** The function handed its task back as its worker stopped: settled back as pending (not an attempt), or not. */
  handedBack?(claim: ClaimedTask, end: AttemptEnd): void;
}

export interface AttemptPipelineOptions {
  readonly queue: string;
  /**
   * What the pipeline reaches in the backend itself: retention, to resolve
   * expiry; rate limits; the running record a task's reports are written to;
   * the queue's event log, which each stage's lifecycle event goes to (a
   * settle's own events go with the settle, atomically); whether a step's
   * workflow still runs.
   */
  readonly store: RateLimitStore &
    Pick<ClaimStore, "saveProgress"> &
    Pick<EventLog, "eventCap" | "appendEvents"> &
    Pick<WorkflowStore, "runningWorkflows"> & { readonly retention: RetentionSettings };
  readonly environment: ExecutionEnvironment;
  readonly settle: Settler;
  readonly hooks?: AttemptHooks | undefined;
  /** A rate-limit check could not reach the backend (the task is put off a little). */
  readonly onRateCheckError?: ((error: unknown) => void) | undefined;
  /** Whether steps' workflows still run could not be read (the steps start all the same). */
  readonly onWorkflowCheckError?: ((error: unknown) => void) | undefined;
  /**
   * How long (ms) a task whose name is not defined here is put back for other
   * workers before it fails with `UnknownTaskError` (see `unknown-task-gate.ts`);
   * absent or 0 fails it at once.
   */
  readonly unknownTaskGraceMs?: number | undefined;
  /** A task of an unknown name was put back for `delayMs`; this worker has found it unknown for `unknownForMs`. */
  readonly onUnknownTask?:
    | ((record: TaskData, delayMs: number, unknownForMs: number) => void)
    | undefined;
  /** A hook threw (it did not change the attempt). */
  readonly onHookError?: ((error: unknown, stage: string) => void) | undefined;
  /** Writing a task's reports failed (the task goes on; its outcome carries them). */
  readonly onProgressError?: ((error: unknown) => void) | undefined;
  /** Appending `started` or `progress` events to the event log failed (they are dropped; the attempt goes on). */
  readonly onEventError?: ((error: unknown) => void) | undefined;
}

/** An attempt in flight. */
export interface Attempt {
  readonly id: string;
  /** The fence the outcome will be settled under (it changes if this holder takes its own expired claim back). */
  readonly fence: number;
  /** Resolves once the outcome went to the backend; `null` when the attempt was abandoned. */
  readonly settled: Promise<AttemptEnd | null>;
  /** Fires the task's AbortSignal with `reason` (the function decides whether to stop). */
  interrupt(reason: Error): void;
  /** Fires the task's `stopping` signal: the worker began to shut down. */
  requestStop(): void;
  /** Takes a new fence for the same attempt: this holder took its own expired claim back. */
  adopt(fence: number): void;
  /** Interrupts the attempt, drops its outcome, and settles the task back as pending (shutdown). */
  abandon(reason: Error): Promise<SettleResult | "unsettled">;
  /** Interrupts the attempt and drops its outcome, settling nothing: its claim is no longer this holder's (shutdown). */
  drop(reason: Error): void;
  /** Runs `fn` in the attempt's span context (as is, when tracing is off): what it logs names the attempt's trace. */
  inContext<T>(fn: () => T): T;
}

/** A record the backend could not read arrives as its failed stand-in: it is settled as it is, not run. */
function standInAttempt(record: TaskData): RunningAttempt {
  return {
    outcome: Promise.resolve({ record, children: [] }),
    interrupt: () => undefined,
    requestStop: () => undefined,
  };
}

/**
 * One attempt's state. A class rather than closures: a worker starts tens of
 * thousands of these a second, and each closure would be one more object.
 */
class PipelineAttempt implements Attempt, TaskReports {
  fence: number;
  abandoned = false;
  readonly settled: Promise<AttemptEnd | null>;
  readonly #running: RunningAttempt;
  /** Made on the first report: most tasks never report. */
  #reporter: ProgressReporter | undefined;

  constructor(
    private readonly pipeline: AttemptPipeline,
    private readonly claim: ClaimedTask,
    environment: ExecutionEnvironment,
    /** The attempt's CONSUMER span and the context it runs in, when tracing is on. */
    private readonly traced: StartedSpan | undefined,
  ) {
    this.fence = claim.fence;
    const startedAt = environment.clock.now();
    this.#running =
      claim.record.finishedAt === null
        ? startAttempt(claim.record, environment, this)
        : standInAttempt(claim.record);
    this.settled = this.#running.outcome.then(
      (outcome) => pipeline.afterRun(this, claim, outcome, startedAt),
      // execute() does not reject; a hook it calls (teardown reporting) might, and must not stop the task.
      (thrown: unknown) => {
        const { record, error } = failure(
          claim.record,
          thrown,
          environment.clock.now(),
          "error",
          findTask(claim.record.name)?.backoff,
        );
        return pipeline.afterRun(this, claim, { record, children: [], error }, startedAt);
      },
    );
  }

  get id(): string {
    return this.claim.record.id;
  }

  progress(value: unknown): void {
    this.#reports().progress(value);
  }

  log(line: string): void {
    this.#reports().log(line);
  }

  /** `record` with what the task reported, if it reported anything. */
  withReports(record: TaskData): TaskData {
    return this.#reporter ? this.#reporter.finish(record) : record;
  }

  /** The log lines reported since the last write, when anything was (see `ProgressReporter.unwritten`). */
  unwrittenReports(): readonly string[] | undefined {
    return this.#reporter?.unwritten();
  }

  /** Resolves once a report write under way is done (`undefined` when none is). */
  reportsWritten(): Promise<void> | undefined {
    return this.#reporter?.written();
  }

  #reports(): ProgressReporter {
    // Written under the fence held at each write (it changes if the claim is adopted).
    this.#reporter ??= this.pipeline.reporterFor(this.claim, () => this.fence);
    return this.#reporter;
  }

  interrupt(reason: Error): void {
    this.#running.interrupt(reason);
  }

  requestStop(): void {
    this.#running.requestStop();
  }

  adopt(fence: number): void {
    this.fence = fence;
  }

  inContext<T>(fn: () => T): T {
    return this.traced ? context.with(this.traced.context, fn) : fn();
  }

  drop(reason: Error): void {
    this.abandoned = true;
    if (this.span) {
      // The outcome, if it ever comes, is dropped: the span ends with the interruption.
      failSpan(this.span, errorToData(reason));
      endAttemptSpan(this.span, "abandoned");
    }
    this.#running.interrupt(reason);
  }

  /** The attempt's CONSUMER span, when tracing is on. */
  get span(): Span | undefined {
    return this.traced?.span;
  }

  /**
   * `record`, when it waits for a retry and carries no trace context (its
   * producer traced nothing: a CLI, an API process without an SDK), with
   * this attempt's: the later attempts' spans then join this one's trace
   * instead of each starting a trace of its own.
   */
  tracedOnward(record: TaskData): TaskData {
    if (!this.traced || record.status !== "retrying") return record;
    if (record.meta[TRACE_META_KEY] !== undefined) return record;
    const carrier = storedCarrier(injectCarrier(this.traced.context, this.traced.span));
    return { ...record, meta: { ...record.meta, [TRACE_META_KEY]: carrier } };
  }

  abandon(reason: Error): Promise<SettleResult | "unsettled"> {
    this.drop(reason);
    // The claim itself, not a copy: its `started`, if still held, goes in front of `interrupted`.
    return this.pipeline.requeue(this.claim, this.fence);
  }
}

/** An attempt's outcome with the log lines reported since its last write, when anything was. */
type ReportedOutcome = AttemptOutcome & { readonly unwrittenLines?: readonly string[] | undefined };

/** Claims sorted by their rate limits. */
export interface Admission {
  /** May start now (their start is counted). */
  readonly admitted: ClaimedTask[];
  /** How many were not admitted: put off, or ended as steps of an ended workflow (none is an attempt). */
  readonly deferredCount: number;
  /** Resolves once every claim not admitted is settled. */
  readonly deferrals: Promise<void>;
}

/** How a settlement came about, for the lifecycle event it carries. */
/**
 * What a settle ends: an attempt (`run`), a claim taken over (`crash`), a
 * start put off by a rate limit (`deferral`), a running attempt interrupted
 * at shutdown (`requeue`), a claim handed back before it started
 * (`release`), or a step not started because its workflow ended (`cancel`).
 */
type SettleKind = "run" | "crash" | "deferral" | "requeue" | "release" | "cancel";

export class AttemptPipeline {
  readonly #unknown: UnknownTaskGate | undefined;
  /** `undefined` while the backend's event log is off. */
  readonly #events: EventPublisher | undefined;

  constructor(private readonly options: AttemptPipelineOptions) {
    const grace = options.unknownTaskGraceMs ?? 0;
    this.#unknown = grace > 0 ? new UnknownTaskGate(grace) : undefined;
    this.#events =
      options.store.eventCap > 0
        ? new EventPublisher(options.store, options.queue, (error) => options.onEventError?.(error))
        : undefined;
  }

  /** Whether `claim` must pass {@link admit} before it starts: it has a rate limit, is a workflow's step, or its name is unknown here. */
  needsAdmission(claim: ClaimedTask): boolean {
    if (claim.record.config.rateLimit || isWorkflowStep(claim)) return true;
    return this.#unknown?.applies(claim.record) ?? false;
  }

  get queue(): string {
    return this.options.queue;
  }

  /**
   * The gates for a batch of claims. A task whose name is unknown here is put
   * back for other workers while its grace lasts. A step whose workflow has
   * ended is settled as `cancelled` (one read for the batch's steps). A
   * workflow's sleep step claimed before its wake time is put off until then.
   * Rate limits are checked in claim order in one round (the oldest claims
   * get the free starts); claims over their limit are settled back as
   * `scheduled` for their slot; claims without a limit pass without a
   * backend call.
   */
  async admit(claims: readonly ClaimedTask[]): Promise<Admission> {
    const { store, queue, environment } = this.options;
    const now = environment.clock.now();
    const putOff = new Map<ClaimedTask, TaskData>();
    const unknown = this.#unknown;
    if (unknown) {
      for (const claim of claims) {
        const verdict = unknown.check(claim.record, now);
        if (!verdict) continue;
        putOff.set(claim, verdict.record);
        try {
          this.options.onUnknownTask?.(verdict.record, verdict.delayMs, verdict.unknownForMs);
        } catch (error) {
          this.#hookFailed(error, "unknown task");
        }
      }
    }
    const ended = await this.#endedSteps(
      claims.filter((claim) => !putOff.has(claim)),
      now,
    );
    for (const claim of claims) {
      if (putOff.has(claim) || ended.has(claim)) continue;
      const sleeping = sleepingRecord(claim.record, now);
      if (sleeping) putOff.set(claim, sleeping);
    }
    const limited = claims.filter(
      (claim) =>
        claim.record.config.rateLimit &&
        claim.record.finishedAt === null &&
        !putOff.has(claim) &&
        !ended.has(claim),
    );
    if (limited.length === 0 && putOff.size === 0 && ended.size === 0)
      return { admitted: [...claims], deferredCount: 0, deferrals: Promise.resolve() };
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
    limited.forEach((claim, i) => {
      const deferred = verdicts[i];
      if (deferred) putOff.set(claim, deferred);
    });
    const deferrals = [...putOff].map(([claim, record]) =>
      this.#settleUnstarted(claim, record, null, now, "deferral"),
    );
    const cancels = [...ended].map(([claim, record]) =>
      this.#settleUnstarted(claim, record, expiryOf(record, store.retention, now), now, "cancel"),
    );
    return {
      admitted: claims.filter((claim) => !putOff.has(claim) && !ended.has(claim)),
      deferredCount: putOff.size + ended.size,
      deferrals: Promise.all([...deferrals, ...cancels]).then(() => undefined),
    };
  }

  /**
   * Settles a claim that does not start — put off (`deferral`), or a step of
   * an ended workflow (`cancel`) — then calls its hook.
   */
  async #settleUnstarted(
    claim: ClaimedTask,
    record: TaskData,
    expiresAt: number | null,
    now: number,
    kind: "deferral" | "cancel",
  ): Promise<void> {
    const result = await this.#send(claim, claim.fence, record, [], expiresAt, now, kind).then(
      (r) => r,
      () => "unsettled" as const,
    );
    const stage = kind === "deferral" ? "deferred" : "cancelled";
    try {
      this.options.hooks?.[stage]?.(claim, record, result);
    } catch (error) {
      this.#hookFailed(error, stage);
    }
  }

  /** The steps among `claims` whose workflow has ended, as they are stored instead; none when that cannot be read. */
  async #endedSteps(
    claims: readonly ClaimedTask[],
    now: number,
  ): Promise<ReadonlyMap<ClaimedTask, TaskData>> {
    try {
      return await stepsOfEndedWorkflows(this.options.store, this.queue, claims, now);
    } catch (error) {
      // Not knowing, the steps run: as they would have before a workflow could end under them.
      try {
        this.options.onWorkflowCheckError?.(error);
      } catch (reportError) {
        this.#hookFailed(reportError, "workflow check");
      }
      return new Map();
    }
  }

  /** @internal The reporter of a claim's attempt: its reports written onto its running record, fenced by `fence()`. */
  reporterFor(claim: ClaimedTask, fence: () => number): ProgressReporter {
    const { store, queue } = this.options;
    return new ProgressReporter(
      claim.record,
      async (record, newLines) => {
        const holder = { id: claim.record.id, fence: fence() };
        const written = await store.saveProgress(queue, holder, record);
        if (written) {
          // Its `started` goes first, if it was still held for the settle.
          this.#events?.release(claim);
          this.#events?.push(
            eventBody("progress", record, this.options.environment.clock.now(), {
              attempt: attemptNumber(claim.record),
              newLines,
            }),
            holder,
          );
          try {
            this.options.hooks?.progressed?.(claim, record);
          } catch (error) {
            this.#hookFailed(error, "progressed");
          }
        }
        return written;
      },
      (error) => this.options.onProgressError?.(error),
      this.options.environment.clock,
    );
  }

  /** Runs an admitted claim; the returned attempt settles itself when the function ends. */
  start(claim: ClaimedTask): Attempt {
    const traced =
      claim.record.finishedAt === null ? startAttemptSpan(this.queue, claim.record) : undefined;
    if (!traced) return this.#start(claim, undefined);
    // Everything the attempt starts from here (the function, its promise chain up to the settle) inherits the span's context.
    return context.with(traced.context, this.#start, this, claim, traced);
  }

  #start(claim: ClaimedTask, traced: StartedSpan | undefined): Attempt {
    // Told before the function runs: what its first synchronous lines log comes after "started".
    const started = this.options.hooks?.started;
    if (started) {
      try {
        started(claim);
      } catch (error) {
        this.#hookFailed(error, "started");
      }
    }
    const attempt = new PipelineAttempt(this, claim, this.options.environment, traced);
    this.#events?.hold(claim, {
      record: claim.record,
      at: this.options.environment.clock.now(),
      holder: () => ({ id: claim.record.id, fence: attempt.fence }),
    });
    return attempt;
  }

  /** @internal The function of `attempt` has returned or thrown: settle its outcome. */
  afterRun(
    attempt: PipelineAttempt,
    claim: ClaimedTask,
    outcome: AttemptOutcome,
    startedAt: number,
  ): Promise<AttemptEnd | null> | null {
    const { span } = attempt;
    if (span && !attempt.abandoned) spanExecuted(span, outcome.record, outcome.error);
    const hooks = this.options.hooks;
    if (hooks?.executed) {
      try {
        hooks.executed(claim, outcome);
      } catch (error) {
        this.#hookFailed(error, "executed");
      }
    }
    // What the task reported goes with its outcome, whether or not the last report was written;
    // what was not yet written is also announced, as the attempt's last `progress` event.
    const unwritten = attempt.unwrittenReports();
    const record = attempt.tracedOnward(attempt.withReports(outcome.record));
    const reported: ReportedOutcome =
      record === outcome.record && unwritten === undefined
        ? outcome
        : { ...outcome, record, unwrittenLines: unwritten };
    if (attempt.abandoned) return null;
    const now = this.options.environment.clock.now();
    if (outcome.handedBack) return this.#handedBack(claim, attempt.fence, now - startedAt, span);
    const end = () => this.#end(attempt.fence, reported, now - startedAt, now, claim, "run", span);
    // A report written meanwhile, and its event, come before the attempt's end.
    const writing = attempt.reportsWritten();
    return writing ? writing.then(end) : end();
  }

  /**
   * Gate, run and settle one claim; `null` when its rate limit put it off.
   * With `running`, its attempt is there under `key` while it runs, for a
   * cancel to interrupt (an inline runner has no lease renewal to hear of one).
   */
  async process(
    claim: ClaimedTask,
    running?: Map<string, Attempt>,
    key = claim.record.id,
  ): Promise<AttemptEnd | null> {
    const { admitted, deferrals } = await this.admit([claim]);
    await deferrals;
    if (admitted.length === 0) return null;
    const attempt = this.start(claim);
    if (!running) return attempt.settled;
    running.set(key, attempt);
    try {
      return await attempt.settled;
    } finally {
      if (running.get(key) === attempt) running.delete(key);
    }
  }

  /** Settles a running attempt's claim (now under `fence`) back as pending, no attempt spent (interrupted at shutdown). */
  requeue(claim: ClaimedTask, fence = claim.fence): Promise<SettleResult | "unsettled"> {
    return this.#handBack(claim, fence, "requeue");
  }

  /**
   * Settles a claim that never started back as pending (claimed while
   * stopping). It writes no lifecycle event: the log never said it started,
   * so it has nothing to end.
   */
  release(claim: ClaimedTask): Promise<SettleResult | "unsettled"> {
    return this.#handBack(claim, claim.fence, "release");
  }

  #handBack(
    claim: ClaimedTask,
    fence: number,
    kind: "requeue" | "release",
  ): Promise<SettleResult | "unsettled"> {
    const now = this.options.environment.clock.now();
    return this.#send(claim, fence, requeuedRecord(claim.record), [], null, now, kind).catch(
      () => "unsettled" as const,
    );
  }

  /**
   * Settles the claim of an attempt whose function handed its task back at
   * shutdown as pending, as an interrupted one is, then calls the
   * `handedBack` hook.
   */
  async #handedBack(
    claim: ClaimedTask,
    fence: number,
    durationMs: number,
    span: Span | undefined,
  ): Promise<AttemptEnd> {
    const result = await this.requeue(claim, fence);
    const end: AttemptEnd = { record: requeuedRecord(claim.record), result, durationMs };
    try {
      this.options.hooks?.handedBack?.(claim, end);
    } catch (error) {
      this.#hookFailed(error, "handed back");
    }
    if (span) endAttemptSpan(span, result);
    return end;
  }

  /** Ends a claim whose holder stopped renewing it: `crashed`, or `retrying` with `retryOnCrash`. */
  crash(claim: ClaimedTask): Promise<AttemptEnd> {
    const { record } = claim;
    const now = this.options.environment.clock.now();
    const ended =
      record.finishedAt === null
        ? failedRecord(
            record,
            new WorkerCrashedError(),
            now,
            "crash",
            findTask(record.name)?.backoff,
          )
        : record;
    return this.#end(claim.fence, { record: ended, children: [] }, 0, now, claim, "crash");
  }

  /**
   * Settles an attempt's outcome made at `now`, then calls the `settled`
   * hook; resolves how that went (never rejects).
   */
  #end(
    fence: number,
    outcome: ReportedOutcome,
    durationMs: number,
    now: number,
    claim: ClaimedTask,
    kind: SettleKind,
    span?: Span,
  ): Promise<AttemptEnd> {
    let { record } = outcome;
    let children = outcome.children;
    // A resume's children are workflow steps, whose ids derive from the workflow.
    if (children.length > 0 && !outcome.workflow) {
      ({ record, children } = identifyChildren(record, children, fence));
      const { clock } = this.options.environment;
      if (clock !== systemClock) {
        children = children.map((child) => ({
          ...child,
          createdAt: createdOn(clock, child.createdAt),
        }));
      }
    }
    const { retention } = this.options.store;
    const expiresAt = record.finishedAt === null ? null : expiryOf(record, retention, now);
    const { error } = outcome;
    const written = outcome.workflow;
    const workflow = written && {
      ...written,
      expiresAt:
        written.record.finishedAt === null
          ? null
          : expiryOf(written.record as unknown as TaskData, retention, now),
    };
    return this.#send(
      claim,
      fence,
      record,
      children,
      expiresAt,
      now,
      kind,
      durationMs,
      workflow,
      outcome.unwrittenLines,
    ).then(
      (result) => this.#settled(claim, { record, durationMs, error, result }, span),
      (settleError: unknown) =>
        isUnstorable(settleError)
          ? this.#settleUnstorable(
              claim,
              fence,
              record,
              settleError,
              durationMs,
              error,
              now,
              kind,
              span,
            )
          : this.#settled(
              claim,
              { record, durationMs, error, result: "unsettled", settleError },
              span,
            ),
    );
  }

  /** The backend refused `record` itself: settle its `failed` stand-in instead, once. */
  #settleUnstorable(
    claim: ClaimedTask,
    fence: number,
    refused: TaskData,
    problem: unknown,
    durationMs: number,
    error: unknown,
    now: number,
    kind: SettleKind,
    span: Span | undefined,
  ): Promise<AttemptEnd> {
    const record = unstorableRecord(refused, problem, now);
    const expiresAt = expiryOf(record, this.options.store.retention, now);
    return this.#send(claim, fence, record, [], expiresAt, now, kind, durationMs).then(
      (result) =>
        this.#settled(claim, { record, durationMs, error: error ?? problem, result }, span),
      (settleError: unknown) =>
        this.#settled(claim, { record, durationMs, error, result: "unsettled", settleError }, span),
    );
  }

  /** Calls the `settled` hook, then ends the attempt's span (after, so the hook's log lines carry it). */
  #settled(claim: ClaimedTask, end: AttemptEnd, span?: Span): AttemptEnd {
    const settled = this.options.hooks?.settled;
    if (settled) {
      try {
        settled(claim, end);
      } catch (error) {
        this.#hookFailed(error, "settled");
      }
    }
    if (span) endAttemptSpan(span, end.result);
    return end;
  }

  /**
   * Hands a settlement made at `now` to the settler, with its lifecycle
   * events, once the attempt's earlier events are in the log; a settler that
   * throws is a rejected settle.
   */
  #send(
    claim: ClaimedTask,
    fence: number,
    record: TaskData,
    children: readonly TaskData[],
    expiresAt: number | null,
    now: number,
    kind: SettleKind,
    durationMs?: number,
    workflow?: WorkflowWrite,
    unwrittenLines?: readonly string[],
  ): Promise<SettleResult> {
    const publisher = this.#events;
    if (!publisher || kind === "release")
      return this.#sendNow(fence, record, children, expiresAt, now, workflow);
    // An attempt that ended before its `started` was appended carries it, in front of its end:
    // as the one-character mark when the end's body can say all of it (see STARTED_MARK), which
    // its reader takes from the body right after it — so not when a last `progress` goes between.
    const started = publisher.take(claim);
    const marked =
      started !== undefined && unwrittenLines === undefined && startsAsMark(started, now);
    const events = started === undefined ? [] : [marked ? STARTED_MARK : startedBody(started)];
    if (unwrittenLines !== undefined) {
      // The reports made since the last write: as the running record showed them, then the end.
      const { progress, logs } = record;
      events.push(
        eventBody(
          "progress",
          {
            ...claim.record,
            ...(progress === undefined ? {} : { progress }),
            ...(logs === undefined ? {} : { logs }),
          },
          now,
          { attempt: attemptNumber(claim.record), newLines: unwrittenLines },
        ),
      );
    }
    events.push(
      eventBody(settleEventType(kind, record), record, now, {
        attempt: attemptNumber(claim.record),
        ...(kind === "run" ? { durationMs } : {}),
        ...(marked ? { startedBefore: now - started.at } : {}),
      }),
    );
    const send = () => this.#sendNow(fence, record, children, expiresAt, now, workflow, events);
    const sent = publisher.busy ? publisher.drained().then(send) : send();
    if (started === undefined) return sent;
    return sent.catch((error: unknown) => {
      // Not written: the next settle of this attempt (its failed stand-in) takes it again.
      publisher.hold(claim, started);
      throw error;
    });
  }

  #sendNow(
    fence: number,
    record: TaskData,
    children: readonly TaskData[],
    expiresAt: number | null,
    now: number,
    workflow?: WorkflowWrite,
    events?: readonly string[],
  ): Promise<SettleResult> {
    try {
      // Each new task's `added` goes with it, written only if the task is.
      const settlement: Settlement = events
        ? {
            fence,
            record,
            children,
            expiresAt,
            events,
            childEvents: children.map((child) => eventBody("added", child, now)),
          }
        : { fence, record, children, expiresAt };
      // A step that ends (finished) moves its workflow on; a retry or a put-off start does not.
      const stepOf = record.finishedAt === null ? null : workflowOfStep(record);
      const resume =
        stepOf === null ? null : resumeTaskFor(stepOf, record.workflowId!, record.id, now);
      const step =
        resume === null
          ? undefined
          : {
              workflowId: record.workflowId!,
              resume,
              ...(events ? { resumeEvent: eventBody("added", resume, now) } : {}),
            };
      // A resume that finishes its workflow says so, with the write.
      const workflowEnd =
        events && workflow ? finishedWorkflowEvent(workflow.record, now) : undefined;
      const write = workflowEnd === undefined ? workflow : { ...workflow!, event: workflowEnd };
      return this.options.settle(
        step || write ? { ...settlement, workflowStep: step, workflow: write } : settlement,
        now,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #hookFailed(error: unknown, stage: string): void {
    try {
      this.options.onHookError?.(error, stage);
    } catch {
      // A failing error report has nowhere left to go; the attempt goes on regardless.
    }
  }
}

/** The lifecycle event a settlement of `kind` leaving `record` stands for. */
function settleEventType(kind: Exclude<SettleKind, "release">, record: TaskData): WrittenEventType {
  switch (kind) {
    case "crash":
      return "crashed";
    case "deferral":
      return "deferred";
    case "requeue":
      return "interrupted";
    case "cancel":
      return "cancelled";
    default:
      if (record.status === "completed") return "completed";
      if (record.status === "retrying") return "retrying";
      return "failed";
  }
}
