import { useEffect, useState } from "preact/hooks";
import { api, type StageCount } from "../api.js";
import { formatWait } from "../format.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

/** Every count `stats` gives, in the order a task goes through them (the compiler keeps it complete). */
const SHOWN = Object.keys({
  pending: true,
  scheduled: true,
  processing: true,
  completed: true,
  failed: true,
  crashed: true,
  cancelled: true,
} satisfies Record<StageCount, true>) as StageCount[];

/** How often the list and its counts are read again (the live feed is a queue page's). */
const REFRESH_MS = 5000;

/** A count that goes up every `ms` while the view is shown. */
function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

/** Every queue the backend holds, with its counts, read again every few seconds (and after an outage). */
export function Home() {
  const tick = useTick(REFRESH_MS);
  const queues = useLoad(() => api.queues(), `queues|${tick}`);
  // What was listed stays shown while a read fails: the problem goes above it.
  const [listed, setListed] = useState<Record<string, number> | undefined>(undefined);
  useEffect(() => {
    if (queues.data) setListed(queues.data);
  }, [queues.data]);
  const problem = queues.error && (
    <p class="problem" data-testid="home-problem">
      Could not list the queues: {queues.error.message} (trying again every {REFRESH_MS / 1000} s)
    </p>
  );
  if (!listed) return problem || <p class="muted">Loading…</p>;
  const names = Object.keys(listed).sort();
  if (names.length === 0) {
    return (
      <>
        {problem}
        <p class="muted">
          No queue holds a task yet. Add one, and it shows here (a queue of crons alone shows once
          its first run is added; open it as <code>#/q/&lt;name&gt;/crons</code>).
        </p>
      </>
    );
  }
  return (
    <section>
      <h2>Queues</h2>
      {problem}
      <table class="table" data-testid="queues">
        <thead>
          <tr>
            <th>queue</th>
            {SHOWN.map((status) => (
              <th key={status} class="num">
                {status}
              </th>
            ))}
            <th
              class="num"
              title="how long the next task to be claimed has waited since it was due"
            >
              waited
            </th>
            <th
              class="num"
              title="workers running the queue's tasks now (not paused, not stopping)"
            >
              workers
            </th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <QueueRow key={name} name={name} tick={tick} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function QueueRow({ name, tick }: { name: string; tick: number }) {
  const stats = useLoad(() => api.stats(name), `stats|${name}|${tick}`);
  return (
    <tr data-queue={name}>
      <td>
        <a href={href({ view: "queue", queue: name, tab: "tasks" })}>{name}</a>
        {stats.data?.paused && (
          <span class="badge paused" data-testid="queue-paused">
            paused
          </span>
        )}
      </td>
      {SHOWN.map((status) => (
        <td key={status} class="num" data-status={status}>
          {stats.data ? stats.data[status].toLocaleString("en") : stats.error ? "?" : "…"}
        </td>
      ))}
      <td class="num" data-status="waited">
        {stats.data ? formatWait(stats.data.latencyMs) : stats.error ? "?" : "…"}
      </td>
      <td class="num" data-status="workers">
        {stats.data ? (stats.data.workers ?? "?") : stats.error ? "?" : "…"}
      </td>
    </tr>
  );
}
