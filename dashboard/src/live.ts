/**
 * A queue's live feed: the API's event stream (`/{queue}/events`) gives the
 * queue's counts now and then and each task as it finishes. From it come the
 * counts shown (read again a moment after tasks finish, so they move at
 * once rather than every few seconds) and the throughput chart's series:
 * completed and failed tasks per second over the last two minutes, counted
 * when the page hears of them.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type QueueInfo, type TaskStatus } from "./api.js";

export interface FinishedEvent {
  id: string;
  name: string;
  status: TaskStatus;
  finishedAt: string | null;
}

/** Per-second counts, oldest first: x in seconds since the epoch. */
export interface Throughput {
  readonly seconds: number[];
  readonly completed: number[];
  readonly failed: number[];
}

const WINDOW_SECONDS = 120;

function emptyThroughput(now: number): Throughput {
  const start = Math.floor(now / 1000) - WINDOW_SECONDS + 1;
  return {
    seconds: Array.from({ length: WINDOW_SECONDS }, (_, i) => start + i),
    completed: new Array<number>(WINDOW_SECONDS).fill(0),
    failed: new Array<number>(WINDOW_SECONDS).fill(0),
  };
}

/** Moves the window so it ends at `now`, dropping the seconds that fell out. */
function advance(series: Throughput, now: number): Throughput {
  const last = series.seconds[series.seconds.length - 1] ?? 0;
  const current = Math.floor(now / 1000);
  const shift = Math.min(current - last, WINDOW_SECONDS);
  if (shift <= 0) return series;
  const pad = (values: number[]) => [...values.slice(shift), ...new Array<number>(shift).fill(0)];
  return {
    seconds: [
      ...series.seconds.slice(shift),
      ...Array.from({ length: shift }, (_, i) => last + 1 + i),
    ],
    completed: pad(series.completed),
    failed: pad(series.failed),
  };
}

export interface QueueFeed {
  readonly stats: QueueInfo | null;
  readonly throughput: Throughput;
  /** Whether the event stream is open and the backend answers. */
  readonly live: boolean;
  /** Why the counts may be stale: the backend does not answer, or the stream was refused. */
  readonly problem: string | null;
  readonly reload: () => void;
}

/** How long a refused or dropped stream waits before the page opens it again. */
const REOPEN_MS = 5000;

/** Follows `queue`'s event stream while mounted; `onFinished` hears each finished task. */
export function useQueueFeed(
  queue: string,
  onFinished?: (event: FinishedEvent) => void,
): QueueFeed {
  const [stats, setStats] = useState<QueueInfo | null>(null);
  const [live, setLive] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [throughput, setThroughput] = useState(() => emptyThroughput(Date.now()));
  const pending = useRef({ completed: 0, failed: 0 });
  const listener = useRef(onFinished);
  listener.current = onFinished;

  useEffect(() => {
    let refresh: ReturnType<typeof setTimeout> | undefined;
    let reopen: ReturnType<typeof setTimeout> | undefined;
    let source: EventSource | undefined;
    let stopped = false;
    const refreshStats = () => {
      refresh ??= setTimeout(() => {
        refresh = undefined;
        api.stats(queue).then(setStats, () => undefined);
      }, 500);
    };
    const open = () => {
      source = new EventSource(api.eventsUrl(queue));
      source.addEventListener("open", () => setLive(true));
      source.addEventListener("error", () => {
        setLive(false);
        if (stopped) return;
        if (source?.readyState !== EventSource.CLOSED) {
          // The browser reopens a dropped stream by itself; should the backend be down, the page
          // would say "connecting…" all along: ask the API, and say why while it is not back.
          const dropped = source;
          api.stats(queue).then(
            () => undefined,
            (error: Error) => {
              if (dropped?.readyState !== EventSource.OPEN) setProblem(error.message);
            },
          );
          return;
        }
        // Nor does it retry one answered with an error (a 403 once a session ends, a 503 when too
        // many are open): show the counts as read now, say why as the API does, and open it again
        // later — so the counts move every few seconds meanwhile.
        api.stats(queue).then(
          (info) => {
            setStats(info);
            void api
              .streamRefusal(queue)
              .then((why) =>
                setProblem(
                  why === null
                    ? "the live stream closed; opening it again…"
                    : `live updates refused (${why}); the counts are read every ${REOPEN_MS / 1000} s meanwhile`,
                ),
              );
          },
          (error: Error) => setProblem(error.message),
        );
        reopen = setTimeout(open, REOPEN_MS);
      });
      source.addEventListener("stats", (event) => {
        setLive(true);
        setProblem(null);
        setStats(JSON.parse((event as MessageEvent<string>).data) as QueueInfo);
      });
      source.addEventListener("unavailable", (event) => {
        setLive(false);
        const { error } = JSON.parse((event as MessageEvent<string>).data) as { error: string };
        setProblem(`${error}: the counts below may be out of date`);
      });
      source.addEventListener("finished", (event) => {
        const finished = JSON.parse((event as MessageEvent<string>).data) as FinishedEvent;
        if (finished.status === "completed") pending.current.completed++;
        else if (finished.status === "failed" || finished.status === "crashed")
          pending.current.failed++;
        listener.current?.(finished);
        refreshStats();
      });
    };
    open();
    const tick = setInterval(() => {
      const counted = pending.current;
      pending.current = { completed: 0, failed: 0 };
      setThroughput((series) => {
        const moved = advance(series, Date.now());
        const last = moved.seconds.length - 1;
        const completed = [...moved.completed];
        const failed = [...moved.failed];
        completed[last] = (completed[last] ?? 0) + counted.completed;
        failed[last] = (failed[last] ?? 0) + counted.failed;
        return { seconds: moved.seconds, completed, failed };
      });
    }, 1000);
    return () => {
      stopped = true;
      source?.close();
      clearInterval(tick);
      if (refresh) clearTimeout(refresh);
      if (reopen) clearTimeout(reopen);
    };
  }, [queue]);

  /** Reads the counts and the pause again now (after a change made from this page). */
  const reload = () => {
    api.stats(queue).then(setStats, () => undefined);
  };
  return { stats, throughput, live, problem, reload };
}
