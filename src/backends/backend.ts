/**
 * @module backends/backend
 *
 * THE contract between Sheppy and storage. `Queue`, `Worker`, `TestQueue` and
 * the attempt pipeline speak only these interfaces; every backend implements
 * all of them and passes one shared contract suite (`sheppy/backend` exports
 * it as `runBackendContract`).
 *
 * Terminology
 * - **record**: a task's stored JSON ({@link TaskData}), never mutated in place.
 * - **claim**: a worker taking a pending task for one attempt. Each claim gets
 *   a **fence**, a number that grows with every claim of that task; a write that
 *   ends an attempt names its fence, and the backend accepts it only while that
 *   claim is the task's current one. So a holder whose claim was taken over
 *   (its lease expired and another worker reclaimed the task) can never
 *   overwrite what the new holder does.
 * - **lease**: how long a claim stays valid without renewal (backends with
 *   `leases`); `renew` extends it, `reclaimExpired` takes over expired ones.
 * - **settle**: the one atomic step that ends an attempt: the outcome record,
 *   the tasks it chained, and the record's expiry, all or nothing.
 * - **concurrency key**: a record with a `concurrencyKey` takes a slot of its
 *   key (at most its `concurrencyLimit`, absent meaning 1) when it would
 *   become claimable — added pending, promoted when due, settled or retried
 *   back to pending. While the key has no free slot the record stays
 *   `pending` but is **held**: not claimable, not counted by `size` or
 *   listed by `getPending`, queued behind the key's other held records. The
 *   slot is the record's while it is claimable or claimed, and frees when it
 *   leaves both (its settle, a cancel, a replacing add, `clear`); the freed
 *   slot goes at once to the key's oldest held record, in the same atomic
 *   step. So no more than the limit of one key's tasks are ever claimed at
 *   once, across every worker, and one key's tasks are claimed in the order
 *   they became claimable. Where an admitted record goes among other keys'
 *   claimable records (its old place, or the back) is the backend's.
 * - **due**: a record waiting for a time (scheduled, a retry, a task put off by
 *   its rate limit); `promoteDue` makes it claimable once its time has come.
 *
 * Conventions
 * - Instants are epoch milliseconds; durations are milliseconds. (The public
 *   API speaks seconds and converts.)
 * - Every method is atomic with respect to every other call on the same
 *   backend, from any process.
 * - Every method except `connect` throws `BackendError` when not connected; a
 *   server that cannot be reached within the backend's time bound gives
 *   `BackendUnavailableError`.
 * - Queues are independent namespaces.
 * - Policy is decided above this seam and passed down as values: the caller
 *   resolves expiry times, retry times, rate-limit requests and record
 *   routing; a backend stores, claims and reads. Where a collection's order is
 *   not stated, it is unspecified.
 *
 * Deliberately not in the contract: connection settings, pooling,
 * transactions, Lua scripts or SQL — those belong to each backend's files.
 */
import type { Clock } from "../clock.js";
import type { JsonValue } from "../json.js";
import type { Logger } from "../observability/logger.js";
import type { DependencyOverrides } from "../task/dependency-types.js";
import type { Middleware } from "../task/middleware-types.js";
import type { TaskData, TaskStatus } from "../task/task-record.js";
import type { RetentionDefaults } from "../task/ttl.js";
import type { WorkflowData } from "../task/workflow-record.js";

/** What a backend can do; the contract suite derives its skips from this, never from the backend's name. */
export interface BackendCapabilities {
  /** Tasks added in one process can be claimed by workers in another. */
  readonly crossProcess: boolean;
  /** Records survive a restart of the process that added them. */
  readonly durable: boolean;
  /** `claim` and `watchFinished` wake on a notification instead of polling. */
  readonly blockingWait: boolean;
  /** Claims are leases renewed by `renew`; `reclaimExpired` recovers tasks of dead workers. */
  readonly leases: boolean;
  /** Tasks run in the adding process as soon as they are added (see {@link InlineProcessing}). */
  readonly instantProcessing: boolean;
  /**
   * `add` stores records within the application's own SQL transaction
   * ({@link AddOptions.tx}); absent: it cannot.
   */
  readonly sqlTransactions?: boolean;
  /**
   * `addDeduplicated` takes `ignore` entries within the application's own SQL
   * transaction too ({@link AddDeduplicatedOptions.tx}); absent: it cannot,
   * and `Queue` refuses a dedupe key with `tx`.
   */
  readonly dedupeInTransactions?: boolean;
}

/**
 * A transaction on the application's own database connection, as `add`
 * takes it: anything with node-postgres's `query(text, values)` — a `pg`
 * client between its BEGIN and COMMIT, say.
 */
export interface SqlTransaction {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /**
   * A `pg.Pool` has these and a client has not: a pool runs each statement on
   * whichever connection is free, outside any transaction, so giving one is
   * a type error rather than only the error `add` throws.
   */
  readonly totalCount?: never;
  readonly idleCount?: never;
}

/** How `addDeduplicated` stores its entries. */
export interface AddDeduplicatedOptions {
  /**
   * Within this transaction, as {@link AddOptions.tx}: only `ignore` entries.
   * A key another open transaction took waits for that one to end.
   */
  readonly tx?: SqlTransaction | undefined;
}

/** How `add` stores its records, beyond its mode. */
export interface AddOptions {
  /**
   * Store them within this transaction (backends with `sqlTransactions`
   * only; `Queue` refuses it for others): they exist — and wake workers —
   * once it commits, and never if it rolls back. Nothing is resent on this
   * connection; an error fails the call and leaves the transaction to its owner.
   */
  readonly tx?: SqlTransaction | undefined;
  /**
   * Lifecycle event bodies, one per record (same order): each is appended
   * to the queue's event log (see {@link EventLog}) in the same atomic step
   * that stores its record, and only if it is stored. Ignored while the log
   * is off.
   */
  readonly events?: readonly string[] | undefined;
}

/** Counts of one queue's records, by where they are in their life. */
export interface QueueStats {
  /** Waiting to be claimed. */
  pending: number;
  /** Waiting for a time: scheduled tasks and retries not yet due. */
  scheduled: number;
  /** Claimed by a worker. */
  processing: number;
  completed: number;
  failed: number;
  crashed: number;
  cancelled: number;
  /**
   * Of `pending`, the tasks waiting for a free slot of their concurrency key
   * (`concurrency: { key, limit }`): they are claimable once a task of their
   * key ends, so they wait even while workers are idle. Absent: the backend
   * does not tell.
   */
  held?: number;
}

/** Where a paged read goes on: `cursor` from the previous page (absent or `null` for the first), `limit` a size hint. */
export interface PageRequest {
  readonly cursor?: string | null | undefined;
  readonly limit?: number | undefined;
}

/** What {@link TaskReader.listTasks} takes: a page request (`limit` 100 by default) and the statuses wanted. */
export interface ListTasksRequest extends PageRequest {
  /** Only records whose status is one of these (an empty list: none); absent: any status. */
  readonly statuses?: readonly TaskStatus[] | undefined;
}

/** One page of a paged read. */
export interface TaskPage {
  tasks: TaskData[];
  /** Pass back to get the next page; `null` when this was the last. */
  cursor: string | null;
}

/** A stored cron definition. Backends key it by `deterministicId` and treat the rest as opaque JSON. */
export interface CronData {
  deterministicId: string;
  [field: string]: JsonValue | undefined;
}

/** Arguments of {@link RateLimitStore.acquireRateLimit}. */
export interface RateLimitRequest {
  key: string;
  maxRate: number;
  periodMs: number;
  taskId: string;
  strategy: "sliding_window" | "fixed_window";
  /** The caller's time (epoch ms) the start is counted at, so a test clock drives rate limits on every backend. */
  now: number;
  /**
   * The task comes back at the slot an earlier refusal of this limit gave
   * it. Refused again (a start it waited on was counted a little late), it
   * is told the moment the window may have room, and the slots handed out
   * since stay as they are — rather than the slot after all of them, which
   * would let a steady line of refusals put it off again and again. Absent:
   * a first ask.
   */
  atSlot?: boolean;
}

/**
 * How `add` treats an id the queue already holds.
 * - `unique`: the existing record is left alone and the add reports `false`
 *   (idempotent enqueue).
 * - `replace`: the record replaces the existing one, in whatever state it
 *   was — unless a worker holds a claim on it right now (replacing it would
 *   start a second run of the same task), which reports `false`.
 * - `rerun`: as `replace`, but an existing record is replaced only while it
 *   is finished or waits for its automatic retry (`retrying`); one that is
 *   pending, scheduled or claimed reports `false` — and only while it is the
 *   record the new one was made from: the new record counts one manual
 *   re-run (`manualRetryCount`) more than the stored one, else `false`.
 *   Running a task again by hand is a read, then this add: of two callers
 *   doing it at once, from any processes, one re-queues the task and the
 *   other finds it pending — or, later, run and finished again, a record its
 *   read never saw — and reports `false`, so it runs and is counted once. A
 *   stored record that is not JSON (written by hand) is replaced as before.
 */
export type AddMode = "unique" | "replace" | "rerun";

/**
 * How an add under a dedupe key treats an unfinished task holding the key.
 * - `ignore`: it is left alone and the add reports it.
 * - `replace`: while it waits to be claimed (pending or scheduled), its record
 *   is replaced by the new one under the existing id (a debounce); once
 *   claimed, the new task is added beside it and takes the key.
 */
export type DedupeMode = "ignore" | "replace";

/** One task to add under a dedupe key, as {@link TaskStore.addDeduplicated} takes it. */
export interface DedupeEntry {
  /** The new work (`pending` or `scheduled`), its `dedupeKey` set to `key`. */
  readonly record: TaskData;
  readonly key: string;
  readonly mode: DedupeMode;
  /**
   * `ignore` only: the key holds for this long (ms) from the add that took it,
   * whatever becomes of its task; `null` holds it while the task is unfinished.
   */
  readonly windowMs: number | null;
  /**
   * A lifecycle event appended to the queue's event log with the add when
   * the outcome is `added` or `replaced`. Only the add knows which task ends
   * up holding the key, so this is the body without its first member: the
   * body appended is `[` + that task's id as a JSON string + `,` + `event`
   * (see `keyedEventBody` in `./event-positions.ts`).
   */
  readonly event?: string | undefined;
}

/** What an add under a dedupe key did: `added` the record, `ignored` it for the task `id`, or `replaced` task `id`'s record with it. */
export type DedupeOutcome = "added" | "ignored" | "replaced";

/** One entry's answer: what happened, and the id of the task that holds the key now. */
export interface DedupeResult {
  readonly outcome: DedupeOutcome;
  readonly id: string;
}

/** A claimed task: the record (status `processing`, `startedAt` set) and the claim's fence. */
export interface ClaimedTask {
  readonly record: TaskData;
  readonly fence: number;
}

/**
 * A running task's claim as an operator sees it: whether its holder still
 * keeps it, and for how long it has not. Read by `task list` and
 * `task info` to tell a long task from one whose worker is gone.
 */
export interface ClaimLease {
  /** Milliseconds since the holder last renewed the claim (or made it), by the backend's lease clock. */
  readonly renewedAgoMs: number;
  /** The lease the holder claimed it under (its `leaseTimeout`, ms); `null` when the claim did not say. */
  readonly leaseMs: number | null;
}

/** A claim as the holder names it when renewing it. */
export interface ClaimRef {
  readonly id: string;
  readonly fence: number;
}

/**
 * The end of one attempt, as {@link TaskStore.settle} takes it.
 *
 * `record` is routed by its status (see `routeOf` in `./record-route.ts`):
 * `completed` / `failed` / `crashed` (with `finishedAt`) are finished;
 * `retrying` waits for `nextRetryAt`; `scheduled` (a start put off by a rate
 * limit) waits for `scheduledAt`; `pending` (an attempt interrupted at
 * shutdown) is claimable again at once. A due time already reached is
 * claimable at once.
 */
export interface Settlement {
  /** The fence of the claim this attempt ran under. */
  readonly fence: number;
  readonly record: TaskData;
  /**
   * Tasks the attempt chained, added as pending in the same step, each only
   * if its id is new to the queue. Callers derive their ids from the parent
   * id, the fence and the position, so settling twice never adds a child twice.
   */
  readonly children: readonly TaskData[];
  /** When a finished record expires (epoch ms), resolved by the caller; `null` keeps it. Ignored for unfinished records. */
  readonly expiresAt: number | null;
  /** The task is a step of a workflow: what its end does to the workflow (see {@link WorkflowStepEnd}). */
  readonly workflowStep?: WorkflowStepEnd | undefined;
  /** The task resumed a workflow: the workflow as the resume leaves it (see {@link WorkflowWrite}). */
  readonly workflow?: WorkflowWrite | undefined;
  /**
   * Lifecycle event bodies of the attempt itself, appended, in order, to the
   * queue's event log in the same atomic step — only when this settle writes
   * the record now (not when it is lost, nor when a resend finds it already
   * written).
   */
  readonly events?: readonly string[] | undefined;
  /**
   * One `added` body per chained task (same order as `children`), each
   * appended after `events` only when its task is added now: not for an id
   * the queue holds, nor when a resume's workflow moved on and its new steps
   * are not written.
   */
  readonly childEvents?: readonly string[] | undefined;
}

/**
 * What a step task's end does to its workflow, applied only when the task
 * ends finished (not retrying) and only while the workflow waits for it:
 * its finished record is kept with the workflow (replays read it there, so
 * the task's own record may expire), the workflow stops waiting for it, and
 * when it was the last step waited for and the workflow still runs, `resume`
 * is added as claimable — in the same atomic step, so exactly one resume
 * follows the last of a fan-out however many workers settle its steps at once.
 */
export interface WorkflowStepEnd {
  readonly workflowId: string;
  /** The task that resumes the workflow, its id derived from the step's, so a repeated settle adds it once. */
  readonly resume: TaskData;
  /** The resume's `added` body, appended (last of the step's events) only when the resume is added now. */
  readonly resumeEvent?: string | undefined;
}

/**
 * The workflow record a resume leaves, written with the resume's own settle
 * (and its children, the steps it asks for) only while the stored workflow
 * still runs and has `expectedSteps` steps — the state the resume replayed.
 * Otherwise (cancelled, or another resume got there first) neither the record
 * nor the children are written; the resume's own record is.
 */
export interface WorkflowWrite {
  readonly record: WorkflowData;
  readonly expectedSteps: number;
  /** When a finished workflow record expires (epoch ms); `null` keeps it. Ignored while it runs. */
  readonly expiresAt: number | null;
  /** The workflow's own event for this write (its end), appended last, only when the write is applied. */
  readonly event?: string | undefined;
}

/** A workflow as stored: its record and the finished records of its steps. */
export interface StoredWorkflow {
  readonly record: WorkflowData;
  /** The finished record of every step that has finished, by task id. */
  readonly outcomes: ReadonlyMap<string, TaskData>;
}

/** A page of workflow records; `cursor` is `null` after the last page. */
export interface WorkflowPage {
  readonly workflows: WorkflowData[];
  readonly cursor: string | null;
}

/**
 * What became of one settlement: `settled` — written now, or already written
 * by an earlier send of the same settlement (a resend after a lost reply);
 * `lost` — not written, because the claim is no longer the task's current
 * one (taken over, or the task was deleted, cleared or expired).
 */
export type SettleResult = "settled" | "lost";

/** Retention a backend applies to finished records: its TTL defaults (seconds) and a count bound. */
export interface RetentionSettings extends RetentionDefaults {
  /**
   * Most completed records with an expiry kept per queue; past it the ones
   * due to expire soonest are deleted at once. `null`: no bound. Records kept
   * forever (a `null` TTL at whichever level decides) are never counted.
   */
  readonly maxFinished: number | null;
  /**
   * The same bound for the other finished records (failed, crashed,
   * cancelled), counted apart: the failures an operator still has to look
   * at, bounded far higher by default than results.
   */
  readonly maxFailed: number | null;
}

/** Opening and closing. */
export interface Connection {
  readonly capabilities: BackendCapabilities;
  readonly isConnected: boolean;
  /** Opens connections. Idempotent; concurrent calls share one attempt. */
  connect(): Promise<void>;
  /** Closes connections; waiting calls end. Idempotent. */
  disconnect(): Promise<void>;
  /**
   * Refuses (a `BackendError` saying what is missing) storage this process
   * may read but not write, such as a database role without the rights a
   * worker uses: a worker calls it once connected, so that it stops at start
   * instead of having every claim refused and retried for ever. Optional:
   * a backend whose connection always may write has nothing to check.
   */
  checkWorkerAccess?(): Promise<void>;
}

/** Storing and settling tasks. */
export interface TaskStore {
  /** Retention of finished records; callers resolve each record's expiry from it (see `task/ttl.ts`). */
  readonly retention: RetentionSettings;

  /**
   * Stores new work: a `pending` record becomes claimable (FIFO); a
   * `scheduled` one waits for its `scheduledAt`. Any other status is an
   * `InvalidOptionError`. Returns one boolean per record, in order: whether it
   * was stored (see {@link AddMode}; a second copy of an id in one call is a
   * duplicate). A record of an older stored version is upgraded; one that is
   * not a readable record is stored as a `failed` record saying why. With
   * `options.tx`, within the application's transaction (see {@link AddOptions}).
   */
  add(
    queue: string,
    records: readonly TaskData[],
    mode?: AddMode,
    options?: AddOptions,
  ): Promise<boolean[]>;

  /**
   * Adds each entry's record unless its key is taken, each entry atomically
   * against every other call from any process (see `./dedupe-decision.ts`
   * for the rule every backend applies). A key is taken by the task of the
   * add that took it: while its window (from that add's `now`) has not passed,
   * or, without a window, while that task is unfinished. A taken key
   * ignores the add — or, in `replace` mode, replaces the task's record (the
   * existing id kept) while it waits to be claimed. Otherwise the record is
   * added and takes the key; when the queue already holds the record's id,
   * nothing is written and the answer is `ignored` with that id. Keys of
   * finished tasks and of passed windows are dropped by `pruneExpired` (or
   * by the next add of the key) and by `clear`. `now` is the caller's time.
   * With `options.tx` (backends with `dedupeInTransactions` only) the
   * entries are added within that transaction, as `add` does with it.
   */
  addDeduplicated(
    queue: string,
    entries: readonly DedupeEntry[],
    now: number,
    options?: AddDeduplicatedOptions,
  ): Promise<DedupeResult[]>;

  /**
   * Ends attempts, each atomically and fenced: its record, its children and
   * its expiry are written together or not at all, and only while `fence` is
   * the task's current claim. Releases the claim. Wakes `watchFinished`
   * listeners for finished records and applies `retention.maxFinished` and `maxFailed`.
   * Returns one result per settlement, in order. Safe to repeat.
   * `now` is the caller's time: a due time at or before it is claimable at once.
   * Rejects with `SerializationError` or `InvalidOptionError` when a record
   * cannot be stored at all (it cannot be encoded or routed), having written
   * nothing: callers settle that one alone, as a `failed` stand-in.
   */
  settle(queue: string, settlements: readonly Settlement[], now: number): Promise<SettleResult[]>;

  /**
   * Cancels a task that is pending or due and not claimed — or, with
   * `running`, claimed too: stores it `cancelled` with `finishedAt` = `at`,
   * expiring at `expiresAt` (`null` keeps it), and returns that record. A
   * claim it ends is the holder's no more: its renewal reports it lost, its
   * settle writes nothing, and its concurrency slot (and its place under a
   * queue cap) is free at once. Returns `null`, changing nothing, for an
   * unknown or finished task, or a claimed one without `running`. Exactly one
   * of a racing cancel and claim (or settle) wins. Wakes `watchFinished`
   * listeners.
   */
  cancel(
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      /** The task is a step of a workflow: its cancellation ends the step (see {@link WorkflowStepEnd}). */
      workflowStep?: WorkflowStepEnd | undefined;
      /** A lifecycle event body appended to the queue's event log with the cancel, when it cancels. */
      event?: string | undefined;
      /** A claimed task is cancelled too, its claim ended. */
      running?: boolean | undefined;
    },
  ): Promise<TaskData | null>;

  /**
   * Replaces a waiting task's record `read` (as a read returned it) with
   * `next` — the same task with another time or priority — while the stored
   * one still waits (pending, scheduled or waiting for its automatic retry,
   * not claimed) and is still `read`, but for a promotion's status (see
   * `./reschedule-rule.ts`). Returns `false`, changing nothing, otherwise,
   * and for a task the queue does not hold. A `pending` record is claimable
   * at once (waking idle workers); a `scheduled` or `retrying` one waits for
   * its time. `next` must be one of those, unfinished, of `read`'s task
   * (else `InvalidOptionError`). Exactly one of a racing reschedule and
   * claim (or another reschedule of the same read) wins.
   */
  reschedule(queue: string, read: TaskData, next: TaskData): Promise<boolean>;

  /** Deletes a finished record. `false`, changing nothing, when the task is unknown or unfinished. */
  deleteTask(queue: string, id: string): Promise<boolean>;

  /** Removes every record of the queue (any status), its crons, its rate-limit state and its event log; returns how many records and crons it removed. */
  clear(queue: string): Promise<number>;

  /** Deletes finished records whose expiry is due by `now`; returns how many. Reads never return an expired record even before this runs. */
  pruneExpired(queue: string, now: number): Promise<number>;
}

/** Claiming tasks for attempts, and keeping those claims. */
export interface ClaimStore {
  /**
   * Claims up to `limit` claimable tasks in FIFO order, each under a new
   * fence. Waits up to `waitMs` for the first one when none is claimable (0 or
   * absent: no wait); when `signal` aborts, the wait ends at once and the
   * claim returns what it has (a worker that stops does not sit out the
   * wait). A stored record that cannot be read comes back as a `failed`
   * record (finished, with a `SerializationError`) for the caller to settle
   * as it is. `leaseMs` is the lease its holder keeps (its `leaseTimeout`),
   * stored with each claim: `reclaimExpired` takes a claim over only once it
   * has gone unrenewed for the longer of its caller's lease and this one
   * (absent: the caller's alone).
   */
  claim(
    queue: string,
    limit: number,
    waitMs?: number,
    signal?: AbortSignal,
    leaseMs?: number,
  ): Promise<ClaimedTask[]>;

  /** Makes every record due by `now` claimable, earliest first, each exactly once; returns their ids. */
  promoteDue(queue: string, now: number): Promise<string[]>;

  /**
   * When the earliest waiting record (scheduled, retrying, put off) becomes
   * due (epoch ms, as its time was stored), or `null` when none waits. A
   * worker's scheduler sleeps until then instead of a whole interval, so a
   * task starts on time. Optional: without it, due records are made
   * claimable at the scheduler's interval.
   */
  nextDueAt?(queue: string): Promise<number | null>;

  /**
   * Renews the leases of `claims`; returns the ids whose claim is no longer
   * current (taken over, deleted). A claim already settled is not reported:
   * its holder lost nothing.
   */
  renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]>;

  /**
   * Stores `record` — a claimed task's record while it runs, carrying what
   * it reported (`progress`, `logs`) — while `claim` is the task's current
   * claim, keeping its status `processing` and its claim's start; `false`,
   * writing nothing, when the claim is no longer current.
   */
  saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean>;

  /**
   * Takes over claims whose lease has not been renewed for `leaseMs`, each
   * under a new fence, and returns them for the caller to settle (as crashed,
   * or for a retry). A claim is taken over only once it has stayed expired,
   * not renewed, for `confirmMs` as this backend sees it: a call notes the
   * expired claims it finds, and a later call at least `confirmMs` after takes
   * over those still not renewed (with `confirmMs` 0, the first call does).
   * So a holder that was cut off by an outage or a paused server — and so was
   * everyone else — gets the window to renew before anyone takes its tasks.
   */
  reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]>;

  /**
   * The claims held now on those of `ids` that are claimed, each with how
   * long ago it was last renewed and the lease it was made under; an id not
   * claimed (waiting, finished, unknown) is left out. Reads only. Optional:
   * without it, tools show a running task without its claim's age.
   */
  claimLeases?(queue: string, ids: readonly string[]): Promise<Map<string, ClaimLease>>;
}

/** A worker's announcement as a backend keeps it (see {@link WorkerDirectory}). */
export interface WorkerSighting {
  /** The worker's id, as it announced itself. */
  readonly id: string;
  /** What it announced: a JSON text the worker layer writes and reads, stored as it came. */
  readonly body: string;
  /** Milliseconds since it last announced itself on this queue, by the backend's clock. */
  readonly seenAgoMs: number;
}

/**
 * Which workers serve a queue, so that tools can tell "no worker runs" from
 * "the workers are busy". A running worker announces itself on each of its
 * queues every little while; an announcement lapses `ttlMs` after it was
 * made, by the backend's clock (so workers on skewed clocks agree), and a
 * worker that stops withdraws at once. Optional as a whole: a backend has
 * all of its methods or none, and without them tools say they cannot tell.
 */
export interface WorkerDirectory {
  /** Records (or refreshes) worker `id` on `queue` with `body`, until `ttlMs` from now unless announced again. */
  announceWorker(queue: string, id: string, body: string, ttlMs: number): Promise<void>;
  /** The workers whose announcement on `queue` has not lapsed, each once, in no particular order; lapsed ones are forgotten. */
  listWorkers(queue: string): Promise<WorkerSighting[]>;
  /** Forgets worker `id` on `queue` (it stopped); nothing when it is not listed. */
  withdrawWorker(queue: string, id: string): Promise<void>;
  /**
   * The queues workers have announced themselves on, sorted: every queue
   * with an announcement that has not lapsed, and perhaps a few whose last
   * one lapsed lately (`listWorkers` tells). Reads only.
   */
  listWorkerQueues(): Promise<string[]>;
}

/** Reading and inspecting, changing nothing. */
export interface TaskReader {
  /** The records with these ids that exist in this queue. */
  getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>>;
  /** The first `count` claimable records in claim order. */
  getPending(queue: string, count: number): Promise<TaskData[]>;
  /** Records waiting for a time, earliest first, a page at a time. */
  getScheduled(queue: string, page?: PageRequest): Promise<TaskPage>;
  /**
   * Every record of the queue, any status, a page at a time, in no stated
   * order; a record may appear on two pages when the queue changes during the
   * walk (callers de-duplicate), but none present throughout is skipped.
   */
  getAllTasks(queue: string, page?: PageRequest): Promise<TaskPage>;
  /**
   * The queue's records newest first — by creation time (`createdAt`, to the
   * millisecond; a record whose `createdAt` is not a real instant counts as
   * created at 0), records created in the same millisecond by id, the
   * greater first in code point order (UTF-8 byte order) — only those whose
   * status, as `getTasks` reads it, is in `statuses` when given, at most
   * `limit` (default 100) a page. The cursor is opaque text naming where the
   * page ended, `null` after the last page; a walk resumes strictly after it
   * however the queue changed meanwhile, so a record present throughout the
   * walk, keeping its status, is returned exactly once. Records added during
   * the walk are newer than its cursor and not seen. A record keeps its place
   * as it runs, retries, is scheduled again or re-run; only a replacement
   * with another `createdAt` moves it. Each call looks at a bounded number of
   * records (5,000 on the built-in backends, or `limit` when more), so a
   * page may hold fewer than `limit` records — even none — while its cursor
   * is not `null`: go on until it is. A `limit` that is not an integer ≥ 1,
   * an unknown status or a cursor that no page returned is an
   * `InvalidOptionError`.
   */
  listTasks(queue: string, request?: ListTasksRequest): Promise<TaskPage>;
  /** Number of claimable tasks. */
  size(queue: string): Promise<number>;
  /** Counts by life stage. */
  getStats(queue: string): Promise<QueueStats>;
  /** Every queue that holds records, with its claimable count. */
  listQueues(): Promise<Map<string, number>>;
  /**
   * Calls `listener` with the ids of tasks of `queue` that finish from now
   * on (settled finished, cancelled). Resolves once listening; the returned
   * function stops. An empty list means "look again": notifications may have
   * been lost (a reconnect), or the backend disconnected. Waiters also read
   * again now and then, as a notification may be lost without notice.
   */
  watchFinished(queue: string, listener: (ids: readonly string[]) => void): Promise<() => void>;
}

/** Workflows: their records and the outcomes of their steps. Steps are tasks of the same queue. */
export interface WorkflowStore {
  /**
   * Stores a new workflow with the steps its first run asked for (added as
   * claimable), all together; `false`, writing nothing, when the queue holds
   * the id. A workflow that finished in its first run comes with no steps and
   * expires at `expiresAt` (`null` keeps it; ignored while it runs). When it
   * stores the workflow, `events` are appended to the queue's event log in
   * the same atomic step (see {@link WorkflowAddEvents}).
   */
  addWorkflow(
    queue: string,
    record: WorkflowData,
    steps: readonly TaskData[],
    expiresAt: number | null,
    events?: WorkflowAddEvents,
  ): Promise<boolean>;
  /** The workflows with these ids that exist (and have not expired) in this queue, with their step outcomes. */
  getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>>;
  /**
   * Which of these workflows the queue holds and are still running: a read
   * of their status alone, no step outcomes. Before a worker starts a
   * workflow's step it asks this, so that a step put back after its workflow
   * ended (a retry, a crashed or interrupted attempt of a step that was
   * running when the workflow was cancelled) never runs again.
   */
  runningWorkflows(queue: string, ids: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Workflow records of the queue, a page at a time, in no stated order (as
   * `getAllTasks` pages); `running` keeps only those still running.
   */
  listWorkflows(
    queue: string,
    page?: PageRequest & { readonly running?: boolean | undefined },
  ): Promise<WorkflowPage>;
  /**
   * Cancels a running workflow and every step of it that has not started
   * (as `cancel` does a task, each step expiring at `stepExpiresAt`), all
   * together; a step already running finishes, but the workflow does not go
   * on. Returns the cancelled record, `"finished"` when it had already
   * finished, `null` when the queue does not hold it. With `events` (the
   * `cancelled` body of each step, by task id), each step cancelled appends
   * its body in the same atomic step; a step it would cancel that has no
   * body there (added since the caller read the workflow) makes it answer
   * `"stale"`, writing nothing: read again and resend.
   */
  cancelWorkflow(
    queue: string,
    id: string,
    cancellation: WorkflowCancellation,
  ): Promise<WorkflowData | "finished" | "stale" | null>;
  /**
   * Runs a failed workflow again, all together: only while the stored record
   * is still the failed run the caller read (status `failed`, finished at
   * `retry.failedAt`), it becomes `retry.record` (running, no expiry), the
   * steps named in `retry.replaced` lose their outcomes and, when finished,
   * their task records, and `retry.tasks` are added as claimable (each only
   * if its id is new), with `retry.events` appended. `true` when it applied
   * — also for a resend of the same call after a lost reply; `false`,
   * writing nothing, when the workflow is no longer that failed run (running
   * again, or deleted and added anew); `null` when the queue does not hold it.
   */
  retryWorkflow(queue: string, id: string, retry: WorkflowRetry): Promise<boolean | null>;
  /** Deletes a finished workflow and its step outcomes; `false` when unknown, `"running"` (changing nothing) when it has not finished. */
  deleteWorkflow(queue: string, id: string): Promise<boolean | "running">;
}

/**
 * What `retryWorkflow` takes: the workflow as it runs again, the steps it
 * asks for again (by the ids of their failed run), and the task that moves
 * it on — a resume that replays it.
 */
export interface WorkflowRetry {
  /** The record as it runs again: status `running`, no error, result or finish time. */
  readonly record: WorkflowData;
  /** When the failed run ended (`finishedAt` as read): the retry applies only to that run. */
  readonly failedAt: string;
  /** New tasks to add with it (new ids), claimable now. */
  readonly tasks: readonly TaskData[];
  /** Task ids of the steps asked for again: their outcomes, and their records once finished, go. */
  readonly replaced: readonly string[];
  /** `workflow:retried`, then one `added` per task (same order), appended when it applies; none while the log is off. */
  readonly events?: WorkflowAddEvents | undefined;
}

/** The event bodies `addWorkflow` appends when it stores the workflow. */
export interface WorkflowAddEvents {
  /** The workflow's own, first: `workflow:added`, then its end when it finished in its first run. */
  readonly workflow: readonly string[];
  /** One `added` per step (same order), each appended only when its step is added (not for an id the queue holds). */
  readonly steps: readonly string[];
}

/** What `cancelWorkflow` takes. */
export interface WorkflowCancellation {
  readonly at: number;
  /** When the cancelled workflow record expires (epoch ms); `null` keeps it. */
  readonly expiresAt: number | null;
  /** When each cancelled step's record expires (epoch ms); `null` keeps them. */
  readonly stepExpiresAt: number | null;
  /** The `cancelled` event body of each step the workflow waits for, by task id; none while the log is off. */
  readonly events?: ReadonlyMap<string, string> | undefined;
  /** The workflow's own `workflow:cancelled` body, appended after its steps' when it cancels. */
  readonly event?: string | undefined;
}

/** Crons, stored under their deterministic ids. */
export interface CronStore {
  /** Stores a cron unless its id exists; `true` when stored. */
  addCron(queue: string, deterministicId: string, cron: CronData): Promise<boolean>;
  /** `true` if a cron was removed. */
  deleteCron(queue: string, deterministicId: string): Promise<boolean>;
  getCrons(queue: string): Promise<CronData[]>;
  /** The names of the queues that hold at least one cron, sorted. */
  listCronQueues(): Promise<string[]>;
}

/** Pausing a queue: its claims stop, everything else goes on. */
export interface QueueControl {
  /**
   * Pauses (`true`) or resumes (`false`) `queue` for every worker on this
   * storage, from the next claim on: while paused, `claim` claims nothing
   * (a claim asked to wait keeps waiting, and a resume wakes it); adds,
   * settles, due tasks becoming claimable, cancels and reads go on as
   * before. The flag outlives `clear`. Idempotent.
   */
  setPaused(queue: string, paused: boolean): Promise<void>;
  /** Whether `queue` is paused. */
  isPaused(queue: string): Promise<boolean>;
  /**
   * Caps the tasks of `queue` claimed at once across every worker on this
   * storage at `limit` (`null`: no cap), from the next claim on: a claim
   * takes at most `limit` minus the claims held now, and a settle that frees
   * one wakes a waiting claim. Claims held beyond a lowered cap run to their
   * end. The cap outlives `clear`. Idempotent.
   */
  setConcurrencyLimit(queue: string, limit: number | null): Promise<void>;
  /** The cap `setConcurrencyLimit` set; `null` when none. */
  getConcurrencyLimit(queue: string): Promise<number | null>;
  /** The names of the paused queues, sorted (a paused queue may hold nothing at all). */
  listPaused(): Promise<string[]>;
}

/** One entry of a queue's event log: its position in the log, and the body as the caller wrote it. */
export interface StoredEvent {
  readonly id: string;
  readonly body: string;
}

/** What {@link EventLog.readEvents} takes. */
export interface EventReadRequest {
  /** Entries strictly after this position; `null`: from the oldest entry kept. */
  readonly after: string | null;
  /** At most this many entries (an integer ≥ 1). */
  readonly limit: number;
  /** Waits up to this long (ms) for a first entry when there is none yet (0 or absent: no wait). */
  readonly waitMs?: number | undefined;
  /** Ends the wait at once when it aborts: the read returns what it has (nothing). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A queue's lifecycle event log: bodies (opaque JSON text written by the
 * caller) in one order per queue, readable from any process on the same
 * storage, bounded to the newest `eventCap` entries. Bodies are appended by
 * `appendEvents`, and — in the same atomic step as the write they describe —
 * by `add`, `addDeduplicated`, `settle` and `cancel` when given them. The
 * log's order is the order of those steps; positions are opaque text that
 * grow along it, and a reader resumes strictly after the last one it saw.
 * A position older than the oldest entry kept reads from the oldest kept.
 */
export interface EventLog {
  /** Most entries kept per queue, the oldest dropped first; 0: the log is off (nothing is appended, reads find nothing). */
  readonly eventCap: number;
  /**
   * Appends `bodies`, in order, as one step. With `holders`, a body whose
   * holder is given (`holders[i]`) is appended only while that claim is the
   * task's current one — claimed under that fence, not settled, cancelled or
   * taken over — and dropped otherwise: a running attempt's own events
   * (`started`, `progress`) never follow the write that ended its claim.
   */
  appendEvents(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void>;
  /**
   * Up to `limit` entries after `after`, oldest first. A position this log
   * could not have given is an `InvalidOptionError`. A waiting read ends
   * early, with nothing, when the backend disconnects.
   */
  readEvents(queue: string, request: EventReadRequest): Promise<StoredEvent[]>;
  /** The position of the newest entry (reading after it gives what comes next); `null` when the log is empty. */
  lastEventId(queue: string): Promise<string | null>;
}

/** Rate-limit windows shared by every instance on the same storage. */
export interface RateLimitStore {
  /**
   * Admits a start: `null` when admitted (the start is counted), else
   * milliseconds (≥ 10) until a slot may be free; refused callers get slots
   * `period / maxRate` apart. Per queue and key, atomic.
   */
  acquireRateLimit(queue: string, request: RateLimitRequest): Promise<number | null>;
}

/**
 * A backend that runs tasks in the adding process (`instantProcessing`): it
 * tells the inline runner when work appears, and carries what that runner
 * needs to run tasks the way a worker would.
 */
export interface InlineProcessing {
  readonly clock: Clock;
  readonly middleware: readonly Middleware[];
  readonly dependencyOverrides: DependencyOverrides | undefined;
  readonly logger: Logger | undefined;
  /** Tells `listener` when work appears and when the backend disconnects; the returned function stops. */
  watchWork(listener: WorkListener): () => void;
}

/** What an inline runner hears from its backend. */
export interface WorkListener {
  /** A task of `queue` became claimable. */
  claimable(queue: string): void;
  /** A task of `queue` started waiting for time `at`. */
  due(queue: string, at: number): void;
  /** The backend disconnected: stop waiting for anything. */
  disconnected(): void;
}

/** A complete backend: every role. */
export interface Backend
  extends Connection,
    TaskStore,
    WorkflowStore,
    ClaimStore,
    TaskReader,
    CronStore,
    RateLimitStore,
    QueueControl,
    EventLog,
    Partial<WorkerDirectory> {
  /**
   * The time source the backend stamps and expires records by, when it has
   * one of its own: a Queue over it reads the same clock (a queue and its
   * backend on two clocks would disagree about when tasks are due).
   */
  readonly clock?: Clock | undefined;
  /** Present exactly when `capabilities.instantProcessing` is true. */
  readonly inline?: InlineProcessing | undefined;
  /**
   * The payload limit (bytes of JSON) queues on this backend apply to task
   * arguments and results unless given their own; absent: the default, 16 MiB.
   */
  readonly maxPayloadBytes?: number | undefined;
}
