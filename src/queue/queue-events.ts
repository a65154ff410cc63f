/**
 * @module queue/queue-events
 * `queue.events()`: the queue's lifecycle events as an async iterable, read
 * from the backend's event log — so a listener hears what every process on
 * the same storage does, in the order the backend stored it, and one that
 * resumes after the last event id it saw misses nothing still in the log.
 */
import type { Backend, StoredEvent } from "../backends/backend.js";
import { BackendUnavailableError, InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import {
  endsWithStartedMark,
  isQueueEventType,
  QUEUE_EVENT_TYPES,
  type QueueEvent,
  type QueueEventType,
  readEventPage,
} from "../task/lifecycle-event.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { ABORTED, unlessAborted } from "../util/unless-aborted.js";
import type { QueueHandle } from "./queue-handle.js";

/** Where `queue.events()` starts, and when it stops. */
export interface QueueEventsOptions<T extends QueueEventType = QueueEventType> {
  /**
   * `"now"` (the default): events stored from now on; `"start"`: from the
   * oldest event the log still keeps; an event's `id`: strictly after it
   * (a listener that saved the last id it handled resumes there).
   */
  readonly after?: "now" | "start" | (string & {}) | undefined;
  /** Ends the iteration when aborted, at once (a read still waiting on the server is left to end on its own). */
  readonly signal?: AbortSignal | undefined;
  /** Events fetched per backend call (default 100). */
  readonly batchSize?: number | undefined;
  /**
   * Only events of these types (default: every type). The others are still
   * read from the log, in order, and passed over.
   */
  readonly types?: readonly T[] | undefined;
  /**
   * `true` (the default): wait for new events until `signal` aborts.
   * `false`: end once every event the log holds when it is read has been
   * given — a task's history from `after: "start"`, say, without waiting.
   */
  readonly follow?: boolean | undefined;
}

/** How long one read waits for new events before looking at `signal` again. */
const WAIT_MS = 1000;
/** Pauses between reads while the backend cannot be reached. */
const RETRY_MS = [100, 250, 500, 1000, 2000];

/** Every key of {@link QueueEventsOptions} (the compiler keeps it complete). */
const EVENTS_OPTION_KEYS = Object.keys({
  after: true,
  signal: true,
  batchSize: true,
  types: true,
  follow: true,
} satisfies Record<keyof QueueEventsOptions, true>);

function checkOptions(options: QueueEventsOptions): {
  limit: number;
  types: ReadonlySet<QueueEventType> | null;
  follow: boolean;
} {
  checkOptionKeys(options, EVENTS_OPTION_KEYS, "queue.events()");
  const { after, batchSize, types, signal, follow } = options;
  if (follow !== undefined && typeof follow !== "boolean")
    throw new InvalidOptionError(
      `queue.events(): follow must be true or false (got ${describeGiven(follow)})`,
    );
  // From now on, and not waiting: nothing could ever be given.
  if (follow === false && (after ?? "now") === "now")
    throw new InvalidOptionError(
      'queue.events(): follow: false reads what the log holds, so it needs after: "start" or an event id (from "now" there is nothing yet)',
    );
  if (after !== undefined && (typeof after !== "string" || after === ""))
    throw new InvalidOptionError(
      `queue.events(): after must be "now", "start" or an event id (got ${describeGiven(after)})`,
    );
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1))
    throw new InvalidOptionError(
      `queue.events(): batchSize must be an integer ≥ 1 (got ${describeGiven(batchSize)})`,
    );
  // Anything else would be ignored, and the loop could never be stopped.
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new InvalidOptionError(
      `queue.events(): signal must be an AbortSignal (got ${describeGiven(signal)})`,
    );
  return {
    limit: batchSize ?? 100,
    types: types === undefined ? null : checkTypes(types),
    follow: follow ?? true,
  };
}

function checkTypes(types: unknown): ReadonlySet<QueueEventType> {
  if (!Array.isArray(types) || types.length === 0)
    throw new InvalidOptionError(
      `queue.events(): types must be a list of one or more event types (got ${JSON.stringify(types)})`,
    );
  const unknown = types.find((type) => !isQueueEventType(type));
  if (unknown !== undefined)
    throw new InvalidOptionError(
      `queue.events(): unknown event type ${JSON.stringify(unknown)} in types (one of: ${QUEUE_EVENT_TYPES.join(", ")})`,
    );
  return new Set(types as QueueEventType[]);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Where a listener starts: the connected backend and the position after which it reads. */
interface EventsStart {
  readonly backend: Awaited<ReturnType<QueueHandle["connect"]>>;
  readonly position: string | null;
}

async function startOf(queue: QueueHandle, after: string): Promise<EventsStart> {
  const backend = await queue.connect();
  if (backend.eventCap === 0)
    throw new InvalidOptionError(
      `queue.events(): the event log of queue '${queue.name}' is off (the backend's eventCap is 0)`,
    );
  const position =
    after === "now" ? await backend.lastEventId(queue.name) : after === "start" ? null : after;
  return { backend, position };
}

/** A listener's events as `queueEvents` returns them, and the read of its start. */
export interface StartedEvents {
  readonly events: AsyncGenerator<QueueEvent, void, undefined>;
  /** Settles once the start is read (either way): what the queue's next writes wait for. */
  readonly started: Promise<void>;
}

/**
 * The lifecycle events of `queue` as `options` ask; ends when `signal` aborts
 * or the backend disconnects. The options are checked and the start ("now":
 * the log's newest position) is read when this is called, not when the loop
 * first asks for an event: what is stored after the call is heard, however
 * late the loop begins.
 */
export function queueEvents(queue: QueueHandle, options: QueueEventsOptions = {}): StartedEvents {
  const { limit, types, follow } = checkOptions(options);
  const after = options.after ?? "now";
  const start = startOf(queue, after);
  // Its failure is the iteration's to report (at the first event asked for), not an unhandled rejection.
  const started = start.then(
    () => undefined,
    () => undefined,
  );
  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  return {
    events: stoppable(iterate(queue.name, start, after, limit, types, follow, signal), stop),
    started,
  };
}

/**
 * `events` with a `return()` (and `throw()`) that ends a `next()` still
 * waiting for an event: an async generator's own queues behind it, so a
 * consumer that calls `return()` while a read waits (an SSE client that
 * left) would wait for the next event — on a quiet queue, indefinitely.
 */
function stoppable(
  events: AsyncGenerator<QueueEvent, void, undefined>,
  stop: AbortController,
): AsyncGenerator<QueueEvent, void, undefined> {
  const stoppable: AsyncGenerator<QueueEvent, void, undefined> = {
    next: () => events.next(),
    return: (value) => {
      stop.abort();
      return events.return(value);
    },
    throw: (error: unknown) => {
      stop.abort();
      return events.throw(error);
    },
    [Symbol.asyncIterator]: () => stoppable,
  };
  return stoppable;
}

/**
 * The body after `page` when the page ends with a `started` mark, which is
 * read from it (written in the same step, so there while the mark is; it is
 * also the next page's first); `undefined` otherwise.
 */
export async function bodyAfterPage(
  backend: Pick<Backend, "readEvents">,
  queue: string,
  page: readonly StoredEvent[],
): Promise<StoredEvent | undefined> {
  if (!endsWithStartedMark(page)) return undefined;
  const after = page[page.length - 1]!.id;
  return (await backend.readEvents(queue, { after, limit: 1, waitMs: 0 }))[0];
}

async function* iterate(
  queueName: string,
  start: Promise<EventsStart>,
  after: string,
  limit: number,
  types: ReadonlySet<QueueEventType> | null,
  follow: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<QueueEvent, void, undefined> {
  // A first connect that hangs (a paused server) runs out its bound; an abort ends the wait now.
  const started = await unlessAborted(start, signal);
  if (started === ABORTED) return;
  const { backend, position: first } = started;
  let position = first;
  let failures = 0;
  while (!signal?.aborted && backend.isConnected) {
    let stored: Awaited<ReturnType<typeof backend.readEvents>>;
    let following: (typeof stored)[number] | undefined;
    try {
      const read = await unlessAborted(
        (async () => {
          const page = await backend.readEvents(queueName, {
            after: position,
            limit,
            waitMs: follow ? WAIT_MS : 0,
            signal,
          });
          return { page, following: await bodyAfterPage(backend, queueName, page) };
        })(),
        signal,
      );
      if (read === ABORTED) return;
      stored = read.page;
      following = read.following;
      failures = 0;
    } catch (error) {
      if (!backend.isConnected) return;
      // The backend knows the position's shape; the caller needs to hear which option gave it.
      if (error instanceof InvalidOptionError && position === after)
        throw new InvalidOptionError(
          // Said once: the backend's message may already name the two ways to start.
          error.message.includes('"start" or "now"')
            ? `queue.events(): after: ${error.message}`
            : `queue.events(): after: ${error.message}; to read everything the log keeps pass "start", to hear only what comes next "now"`,
          { cause: error },
        );
      // An outage passes; the log keeps what happened meanwhile, up to its cap.
      if (!(error instanceof BackendUnavailableError)) throw error;
      await pause(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]!, signal);
      continue;
    }
    for (const event of readEventPage(queueName, stored, following)) {
      position = event.id;
      if (types && !types.has(event.type)) continue;
      yield event;
      if (signal?.aborted) return;
    }
    // A short page is the log's end as it stood: not following, that is all there was.
    if (!follow && stored.length < limit) return;
  }
}
