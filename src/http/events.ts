/**
 * @module http/events
 * `GET /{queue}/events`: a Server-Sent Events stream for live views — the
 * queue's counts and whether it is paused, when it opens and every few
 * seconds after (`stats`, as `GET /{queue}/stats` answers), and
 * each task that finishes (`finished`: id, name, status, finishedAt) as the
 * backend announces it, every lifecycle event of the queue's event log
 * (`task`, a `QueueEvent`, under its id: a client that reconnects with
 * `Last-Event-ID` resumes after it, whatever its URL's `after` says), and `unavailable` when the backend does
 * not answer (the counts last sent are stale until the next `stats`). It
 * ends when the client goes away. `finished` comes from the backend's
 * finished notification, not from the log, so it is not ordered with the
 * `task` events: it may come before the same task's `started`.
 *
 * A client slower than the queue (a burst of thousands of adds, a tab in the
 * background) is never buffered for without bound: once
 * {@link STREAM_BUFFER_BYTES} wait unsent, the log is read no further until
 * the client has taken them (it then goes on where it was, missing nothing),
 * and `finished` and `stats` — which a later one supersedes, and whose ends
 * the log's events carry too — are not sent until it has caught up.
 */

import type { QueueStats } from "../backends/backend.js";
import { InvalidOptionError } from "../errors.js";
import type { Queue } from "../queue/queue.js";
import { runningWorkerCount } from "../queue/readable-workers.js";
import {
  isQueueEventType,
  QUEUE_EVENT_TYPES,
  type QueueEventType,
} from "../task/lifecycle-event.js";

/**
 * What `GET /{queue}/stats` and the `stats` event tell of a queue: its
 * counts, whether it is paused, and how long its next task has waited since
 * it was due (`queue.latency()`).
 */
export async function queueInfo(
  queue: Queue,
): Promise<QueueStats & { paused: boolean; latencyMs: number; workers: number | null }> {
  const [counts, paused, latencyMs, workers] = await Promise.all([
    queue.stats(),
    queue.isPaused(),
    queue.latency(),
    runningWorkerCount(queue),
  ]);
  return { ...counts, paused, latencyMs, workers };
}

/** Longest position accepted from a request, as the `after` query parameter's bound. */
const MAX_POSITION_LENGTH = 100;

/**
 * Where a stream resumes: after `Last-Event-ID` when a client sent one, else
 * after the URL's `after` (`null`: from now). An `EventSource` reconnecting
 * keeps its URL and sends the id of the last event it got, which is always
 * the later of the two: the URL's would replay what it already has.
 */
export function resumePosition(headers: Headers, after: string | undefined): string | null {
  const last = headers.get("last-event-id")?.trim();
  if (last) {
    if (last.length > MAX_POSITION_LENGTH) {
      throw new InvalidOptionError(
        `Last-Event-ID: a position is at most ${MAX_POSITION_LENGTH} characters (got ${last.length})`,
      );
    }
    return last;
  }
  return after ?? null;
}

/**
 * The event types `?type=` names (comma-separated), `undefined` for all; an
 * unknown one is the caller's mistake, answered 400 before the stream opens.
 */
export function eventTypesOf(text: string | undefined): QueueEventType[] | undefined {
  if (text === undefined) return undefined;
  const types = text.split(",").map((t) => t.trim());
  const unknown = types.find((t) => !isQueueEventType(t));
  if (unknown !== undefined) {
    throw new InvalidOptionError(
      `type: unknown event type '${unknown}' (one of: ${QUEUE_EVENT_TYPES.join(", ")})`,
    );
  }
  return types as QueueEventType[];
}

/** Seconds between `stats` events and keep-alive comments. */
const STATS_EVERY_MS = 5000;

/** Bytes of events a stream holds for a client that has not taken them, before it waits for that client. */
export const STREAM_BUFFER_BYTES = 256 * 1024;

/** The event stream of `queue` until `signal` aborts (the client left); lifecycle events after `after` (`null`: from now). */
export async function eventStream(
  queue: Queue,
  signal: AbortSignal,
  after: string | null,
  types?: readonly QueueEventType[],
  onClosed: () => void = () => undefined,
): Promise<Response> {
  const backend = await queue.connect();
  if (after !== null && after !== "now" && after !== "start" && backend.eventCap > 0) {
    // A position the log never gave is the caller's mistake: a 400 now, not an event in a 200 stream.
    // A backend that does not answer is not: the stream opens and says so, as it does later on
    // (an EventSource given an error status would never reconnect).
    await backend.readEvents(queue.name, { after, limit: 1, waitMs: 0 }).catch((error: unknown) => {
      if (error instanceof InvalidOptionError) throw error;
    });
  }
  const encoder = new TextEncoder();
  let stop: (() => void) | undefined;
  // Resolved when the client has taken what waited (the stream pulls), or the stream ended.
  let room: { promise: Promise<void>; resolve: () => void } | undefined;
  const makeRoom = () => {
    room?.resolve();
    room = undefined;
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  // Ends when the client leaves or the reader cancels the body (a HEAD does at once, before the
  // stream has finished starting): nothing may start after it.
  const ended = new AbortController();
  let open = true;
  const close = () => {
    if (open) onClosed();
    open = false;
    ended.abort();
    stop?.();
    if (timer) clearInterval(timer);
    makeRoom();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async start(controller) {
        /** Whether the client has {@link STREAM_BUFFER_BYTES} or more waiting for it. */
        const behind = () => (controller.desiredSize ?? 0) <= 0;
        const send = (text: string) => {
          if (!open) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            open = false;
            close();
          }
        };
        /** Once the client has taken what waits: at once while it keeps up. */
        const caughtUp = (): Promise<void> => {
          if (!open || !behind()) return Promise.resolve();
          if (!room) {
            let resolve!: () => void;
            const promise = new Promise<void>((r) => {
              resolve = r;
            });
            room = { promise, resolve };
          }
          return room.promise;
        };
        const event = (name: string, data: unknown) =>
          send(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
        // Superseded by a later one, or carried by the log too: not queued for a client behind.
        const eventIfKeepingUp = (name: string, data: unknown) => {
          if (!behind()) event(name, data);
        };
        // A live view must be able to tell stale counts from current ones: say so as an event.
        const stats = () =>
          queueInfo(queue).then(
            (counts) => eventIfKeepingUp("stats", counts),
            () => event("unavailable", { error: "the backend did not answer" }),
          );
        const leave = () => {
          close();
          try {
            controller.close();
          } catch {
            // Already closed by the reader.
          }
        };
        if (signal.aborted) leave();
        else signal.addEventListener("abort", leave, { once: true });
        const onFinished = (ids: readonly string[]) => {
          // A client behind gets no `finished` (nor a read for it) until it has caught up.
          if (ids.length === 0 || behind()) return;
          void backend.getTasks(queue.name, ids).then(
            (records) => {
              for (const record of records.values()) {
                const { id, name, status, finishedAt } = record;
                // `?type=failed` asks for failures: a task that completed is not one.
                if (types && !(types as readonly string[]).includes(status)) continue;
                eventIfKeepingUp("finished", { id, name, status, finishedAt });
              }
            },
            () => send(": could not read finished tasks\n\n"),
          );
        };
        // Listening for finished tasks needs the backend too: while it does not answer, the stream
        // stays open, says so, and listens once it can (a stream that ended here would be reopened
        // by the browser, in the same outage, without ever telling why).
        let subscribing = false;
        const listen = async () => {
          if (subscribing) return;
          subscribing = true;
          await backend.watchFinished(queue.name, onFinished).then(
            (unwatch) => {
              if (open) stop = unwatch;
              else unwatch();
            },
            () => {
              subscribing = false;
              event("unavailable", { error: "the backend did not answer" });
            },
          );
        };
        // Listening first: once a client has the first counts, no task it sees finish is missed.
        await listen();
        // "From now" is now, before the first counts: a client that acts on them (adds a task)
        // hears of what it did. An empty log: everything it will hold.
        const from =
          after !== null || backend.eventCap === 0
            ? after
            : await backend.lastEventId(queue.name).then(
                (last) => last ?? "start",
                () => null,
              );
        await stats();
        if (!open) return;
        if (backend.eventCap > 0) void followLog(queue, from, types, ended.signal, send, caughtUp);
        timer = setInterval(() => {
          void stats();
          if (stop === undefined) void listen();
        }, STATS_EVERY_MS);
        timer.unref?.();
      },
      pull: makeRoom,
      cancel: close,
    },
    { highWaterMark: STREAM_BUFFER_BYTES, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: a proxy that compresses would hold events back to fill its blocks.
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx buffers a proxied answer by default, and would send the events in bursts or never.
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    },
  });
}

/** Sends each lifecycle event of the queue's log (of `types`, when given) as a `task` event under its id, until `signal` aborts. */
async function followLog(
  queue: Queue,
  after: string | null,
  types: readonly QueueEventType[] | undefined,
  signal: AbortSignal,
  send: (text: string) => void,
  caughtUp: () => Promise<void>,
): Promise<void> {
  try {
    for await (const event of queue.events({ after: after ?? "now", signal, types })) {
      send(`id: ${event.id}\nevent: task\ndata: ${JSON.stringify(event)}\n\n`);
      // The log waits for a client behind; reading on would only pile its events up here.
      await caughtUp();
    }
  } catch (error) {
    // A bad resume position, say: the counts and finished tasks go on without the log.
    const message = error instanceof Error ? error.message : String(error);
    send(`event: unavailable\ndata: ${JSON.stringify({ error: message })}\n\n`);
  }
}
