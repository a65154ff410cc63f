/**
 * @module queue/wait-for-finished
 * Waiting until tasks (or workflows) have finished, written once for every
 * backend: listen for the backend's finished notifications, read the
 * records, and read again whenever a notification names a wanted id (or asks
 * to look again), or every few seconds in case one was lost. The deadline is
 * real time, whatever clock the queue's tasks see: how long a caller waits is
 * an operational matter, like a claim's wait.
 *
 * A wait rides out an outage of its backend: a read the backend could not
 * answer (`BackendUnavailableError`) is tried again until the wait's own
 * time is up, and then the outage is what the wait fails with — the caller
 * said how long it would wait, and the tasks it waits for are still being
 * worked on by workers that ride out the same outage.
 */

import type { TaskReader, WorkflowStore } from "../backends/backend.js";
import { systemClock } from "../clock.js";
import {
  BackendError,
  BackendUnavailableError,
  TaskNotFoundError,
  WaitTimeoutError,
  WorkflowNotFoundError,
} from "../errors.js";
import type { TaskData } from "../task/task-record.js";
import { storedUnknownSince } from "../task/unknown-since.js";
import type { WorkflowData } from "../task/workflow-record.js";

/** While waiting, read again this often even without a notification. */
export const RECHECK_MS = 2000;
/** While the backend cannot be reached, try a read again this often. */
const OUTAGE_RETRY_MS = 500;

type Watcher = Pick<TaskReader, "watchFinished"> & { readonly isConnected: boolean };

/** What is waited for: how to read it, when it counts as finished, and what to say when it is unknown. */
interface Waited<T> {
  read(ids: readonly string[]): Promise<Map<string, T>>;
  isFinished(record: T): boolean;
  /** No worker has taken it up yet (a timeout then asks whether one runs). */
  isUnclaimed(record: T): boolean;
  readonly kind: "task" | "workflow";
  notFound(id: string, why: string): Error;
  /** Whether this process stored `id` (so it will not be added later by someone else). */
  addedHere?: (id: string) => boolean;
  /** What a timeout says when nothing was claimed, instead of asking whether a worker runs. */
  readonly idleHint?: string | undefined;
  /** The task name of a record put back by workers that do not define it, else `undefined`. */
  unknownName?(record: T): string | undefined;
  /** Where an unfinished record stands, for a timeout's message ("it is retrying: …"); `undefined`: nothing worth saying. */
  standing?(record: T): string | undefined;
}

/** Why a wait without limit ends on an id the queue does not hold. */
const NEVER_HELD =
  "it was never added, or was removed before it could be read (deleted, or finished and then deleted past the queue's maxFinished bound or its TTL)";
/** Why a bounded wait ends on an id this queue object stored and the queue no longer holds. */
const ADDED_THEN_GONE =
  "this queue added it, and the queue no longer holds it: it finished and was deleted past the queue's maxFinished bound or its TTL before the wait read it (wait for fewer at once, or raise maxFinished), or it was deleted";
/** Why any wait ends on an id that the queue held earlier in the wait and no longer does. */
const REMOVED =
  "it was removed while waited for (deleted, or finished and then deleted past the queue's maxFinished bound or its TTL before it could be read — then wait for fewer at once, or raise maxFinished — or lost with the storage's data, as by a Redis restarted without persistence)";

/**
 * The finished records of `ids` (`finishedAt` set), once all are finished.
 * `timeoutMs` `null` waits without limit; `0` reads once; a positive value
 * waits at most that long. When time is up, throws `WaitTimeoutError`
 * naming the unfinished ids and which of them the queue does not hold.
 *
 * A wait without limit on an id the queue does not hold throws
 * `TaskNotFoundError` at once: that wait could never end. A bounded wait
 * treats an unknown id as unfinished, so a caller may wait for a task
 * another process is about to add. Either wait throws `TaskNotFoundError` at
 * once for a record it saw that is gone at a later read (deleted, or finished
 * and deleted past `maxFinished` or its TTL before the wait could read it),
 * and for an id `addedHere` says this process stored and the queue no longer
 * holds (gone before the wait's first read: no other process will add it).
 * A read the backend cannot answer is tried again until the time is up (see
 * the module header).
 */
export function waitForFinished(
  backend: TaskReader & { readonly isConnected: boolean },
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
  idleHint?: string,
  signal?: AbortSignal,
  addedHere: (id: string) => boolean = () => false,
): Promise<Map<string, TaskData>> {
  return waitUntilFinished(backend, queue, ids, timeoutMs, signal, {
    addedHere,
    read: (wanted) => backend.getTasks(queue, wanted),
    isFinished: (record) => record.finishedAt !== null,
    isUnclaimed: neverClaimed,
    unknownName: (record) =>
      record.finishedAt === null && storedUnknownSince(record, Date.now()) !== null
        ? record.name
        : undefined,
    notFound: (id, why) => new TaskNotFoundError(id, queue, why),
    kind: "task",
    idleHint,
    standing: taskStanding,
  });
}

/**
 * Where an unfinished task that was taken up stands: waiting for the time
 * of its retry (with the error it failed of) or of its schedule, or running
 * since when. A wait that ran out on a task waiting for a time says so —
 * a test whose `TestClock` never reached it, a retry far off.
 */
function taskStanding(record: TaskData): string | undefined {
  const error =
    record.error === null
      ? ""
      : `; its last attempt failed: ${record.error.type}: ${String(record.error.message).split("\n")[0]!.slice(0, 200)}`;
  switch (record.status) {
    case "retrying":
      return `it is waiting to retry at ${record.nextRetryAt ?? record.scheduledAt ?? "a later time"}, by the queue's clock${error}`;
    case "scheduled":
      return record.scheduledAt === null
        ? undefined
        : `it is scheduled for ${record.scheduledAt}, by the queue's clock${error}`;
    case "processing":
      return record.startedAt === null
        ? undefined
        : `it has been running since ${record.startedAt}`;
    default:
      return undefined;
  }
}

/**
 * Whether no worker has taken `record` up although one could have: pending
 * and never started, or scheduled for a time that has passed (a worker
 * would have made it pending and started it by now).
 */
function neverClaimed(record: TaskData): boolean {
  if (record.startedAt !== null) return false;
  if (record.status === "pending") return true;
  return (
    record.status === "scheduled" &&
    record.scheduledAt !== null &&
    Date.parse(record.scheduledAt) <= Date.now()
  );
}

/** {@link waitForFinished} for workflows: their records once completed, failed or cancelled. */
export async function waitForWorkflows(
  backend: Pick<WorkflowStore, "getWorkflows"> & TaskReader & Watcher,
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
  idleHint = `none of their steps has finished — is a worker serving queue '${queue}' running (sheppy work)?`,
  signal?: AbortSignal,
): Promise<Map<string, WorkflowData>> {
  // Running workflows none of whose steps has finished at the last read: all of them so at the
  // timeout means most likely that nothing runs their steps (one may be running a long step).
  const unmoved = new Set<string>();
  // Of those, the ones whose waited-for steps workers put back as of a task they do not define.
  const stepsUnknown = new Map<string, string>();
  return waitUntilFinished(backend, queue, ids, timeoutMs, signal, {
    read: async (wanted) => {
      const found = new Map<string, WorkflowData>();
      for (const [id, stored] of await backend.getWorkflows(queue, wanted)) {
        found.set(id, stored.record);
        if (stored.outcomes.size === 0 && stored.record.status === "running") unmoved.add(id);
        else unmoved.delete(id);
      }
      await noteWaitedSteps(backend, queue, found, unmoved, stepsUnknown);
      return found;
    },
    isFinished: (record) => record.finishedAt !== null,
    isUnclaimed: (record) => unmoved.has(record.id),
    unknownName: (record) => stepsUnknown.get(record.id),
    notFound: (id, why) => new WorkflowNotFoundError(id, queue, why),
    kind: "workflow",
    idleHint,
  });
}

/**
 * Reads the waited-for steps of the `unmoved` workflows of `found` (only
 * those: a wait for workflows whose steps do finish reads no step), once:
 * notes in `into`, by workflow id, the task name of a step that workers put
 * back because they do not define it, and takes out of `unmoved` a workflow
 * whose step a worker has started — it runs, however long its step takes.
 */
async function noteWaitedSteps(
  backend: TaskReader,
  queue: string,
  found: ReadonlyMap<string, WorkflowData>,
  unmoved: Set<string>,
  into: Map<string, string>,
): Promise<void> {
  const stepIds = new Map<string, string>();
  for (const [id, record] of found) {
    into.delete(id);
    if (!unmoved.has(id)) continue;
    for (const stepId of record.pending) stepIds.set(stepId, id);
  }
  if (stepIds.size === 0) return;
  const now = Date.now();
  const started = new Set<string>();
  for (const [stepId, step] of await backend.getTasks(queue, [...stepIds.keys()])) {
    if (step.finishedAt !== null) continue;
    if (storedUnknownSince(step, now) !== null) into.set(stepIds.get(stepId)!, step.name);
    else if (step.status === "processing") started.add(stepIds.get(stepId)!);
  }
  for (const id of started) if (!into.has(id)) unmoved.delete(id);
}

async function waitUntilFinished<T>(
  backend: Watcher,
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
  signal: AbortSignal | undefined,
  waited: Waited<T>,
): Promise<Map<string, T>> {
  signal?.throwIfAborted();
  const wanted = [...new Set(ids)];
  const state = new WaitState(waited, wanted);
  const giveUp = (): never => {
    const absent = [...state.absent];
    if (timeoutMs === null) throw waited.notFound(absent[0]!, NEVER_HELD);
    const unfinished = wanted.filter((id) => !state.results.has(id));
    // Put back by workers that do not define them: that, not an idle queue, is why.
    const unknownNames = [...new Set(state.unknownNames.values())];
    if (absent.length === 0 && unknownNames.length > 0) {
      throw new WaitTimeoutError(
        timeoutMs / 1000,
        unfinished,
        absent,
        queue,
        waited.kind,
        `the workers that claimed ${waited.kind === "workflow" ? "the steps of " : ""}${claimedBy(state.unknownNames.size, unfinished.length)} do not define task ${unknownNames.map((name) => `'${name}'`).join(", ")}: put back for a worker that does, it fails once the unknown-task grace is over (load the module that defines it in the workers)`,
      );
    }
    // The usual reason nothing finished: no worker serves the queue. Say so when it shows.
    const idle =
      absent.length === 0 && state.unclaimed.size === unfinished.length ? queue : undefined;
    // Else, for one task, where it stands: waiting for a time, or running.
    const latest = unfinished.length === 1 ? state.latest.get(unfinished[0]!) : undefined;
    const standing =
      idle === undefined && latest !== undefined ? waited.standing?.(latest) : undefined;
    throw new WaitTimeoutError(
      timeoutMs / 1000,
      unfinished,
      absent,
      idle,
      waited.kind,
      waited.idleHint,
      standing,
    );
  };
  // A record the wait saw that is gone now cannot finish any more: no use waiting out the time.
  const removed = (): never => {
    throw waited.notFound([...state.removed][0]!, REMOVED);
  };
  if (timeoutMs === 0) {
    await state.read(wanted);
    return state.done ? state.results : giveUp();
  }
  const deadline = timeoutMs === null ? null : systemClock.now() + timeoutMs;
  let wake: (() => void) | undefined;
  // Listening starts before the first read, so no notification falls between the two. A
  // notification names the ids to read again; only those are read, so waiting for a long
  // list costs about one read per finished id, not one read of the whole list per
  // notification. The first pass, "look again" (an empty list) and the periodic recheck
  // read everything still unfinished.
  let named = new Set<string>();
  let everything = true;
  const listener = (finished: readonly string[]) => {
    if (finished.length === 0) everything = true;
    else {
      for (const id of finished) if (state.isWaitingFor(id)) named.add(id);
      if (named.size === 0) return;
    }
    wake?.();
  };
  let stop: () => void;
  for (;;) {
    try {
      stop = await backend.watchFinished(queue, listener);
      break;
    } catch (error) {
      await outageRetry(error, backend, deadline, signal);
    }
  }
  // An abort wakes the wait, which then ends with the signal's reason.
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const toRead = everything ? state.unfinished() : [...named];
      everything = false;
      named = new Set();
      try {
        await state.read(toRead);
      } catch (error) {
        await outageRetry(error, backend, deadline, signal);
        // Whatever a notification named meanwhile is read with the rest, once a read gets through.
        everything = true;
        continue;
      }
      if (state.done) return state.results;
      if (state.removed.size > 0) removed();
      if (timeoutMs === null && state.absent.size > 0) giveUp();
      const gone = waited.addedHere && [...state.absent].find(waited.addedHere);
      if (gone) throw waited.notFound(gone, ADDED_THEN_GONE);
      if (!backend.isConnected)
        throw new BackendError("the backend was disconnected while waiting for results");
      const remaining = deadline === null ? RECHECK_MS : deadline - systemClock.now();
      if (remaining <= 0) giveUp();
      if (everything || named.size > 0) continue;
      const rechecked = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), Math.min(remaining, RECHECK_MS));
        wake = () => {
          clearTimeout(timer);
          resolve(false);
        };
        // Aborted during the last read, before there was a wait to wake.
        if (signal?.aborted) wake();
      });
      wake = undefined;
      if (rechecked) everything = true;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stop();
  }
}

/**
 * After a call of the wait failed with `error`: rethrows it unless it is an
 * outage of a backend still connected with time left before `deadline`
 * (`null`: none); otherwise resolves after a short pause, to try again.
 */
async function outageRetry(
  error: unknown,
  backend: Watcher,
  deadline: number | null,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!(error instanceof BackendUnavailableError) || !backend.isConnected) throw error;
  const left = deadline === null ? OUTAGE_RETRY_MS : deadline - systemClock.now();
  if (left <= 0) throw error;
  await pause(Math.min(left, OUTAGE_RETRY_MS), signal);
  signal?.throwIfAborted();
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** What is known of the wanted ids: the finished records, and which others are absent or unclaimed. */
class WaitState<T> {
  readonly results = new Map<string, T>();
  /** Ids the queue did not hold at their last read. */
  readonly absent = new Set<string>();
  /** Ids no worker had claimed at their last read. */
  readonly unclaimed = new Set<string>();
  /** Ids held at an earlier read and absent at a later one. */
  readonly removed = new Set<string>();
  /** Task names of unfinished records put back by workers that do not define them, by id. */
  readonly unknownNames = new Map<string, string>();
  /** The last record read of each unfinished id. */
  readonly latest = new Map<string, T>();
  readonly #held = new Set<string>();
  readonly #wanted: ReadonlySet<string>;

  constructor(
    private readonly waited: Waited<T>,
    private readonly wanted: readonly string[],
  ) {
    this.#wanted = new Set(wanted);
  }

  get done(): boolean {
    return this.results.size === this.wanted.length;
  }

  isWaitingFor(id: string): boolean {
    return this.#wanted.has(id) && !this.results.has(id);
  }

  unfinished(): string[] {
    return this.wanted.filter((id) => !this.results.has(id));
  }

  /** Reads `ids` and records what each is now. */
  async read(ids: readonly string[]): Promise<void> {
    const pending = ids.filter((id) => !this.results.has(id));
    if (pending.length === 0) return;
    const found = await this.waited.read(pending);
    for (const id of pending) {
      const record = found.get(id);
      this.absent.delete(id);
      this.unclaimed.delete(id);
      this.unknownNames.delete(id);
      if (record === undefined) {
        this.absent.add(id);
        if (this.#held.has(id)) this.removed.add(id);
      } else if (this.waited.isFinished(record)) this.results.set(id, record);
      else {
        this.latest.set(id, record);
        if (this.waited.isUnclaimed(record)) this.unclaimed.add(id);
        const unknown = this.waited.unknownName?.(record);
        if (unknown !== undefined) this.unknownNames.set(id, unknown);
      }
      if (record !== undefined) this.#held.add(id);
    }
  }
}

/** Which of the `unfinished` a timeout's words are about: "it", "them" or "2 of them". */
function claimedBy(count: number, unfinished: number): string {
  if (count < unfinished) return `${count} of them`;
  return unfinished === 1 ? "it" : "them";
}
