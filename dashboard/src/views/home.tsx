import type { QueueStats } from "../../../src/backends/backend.js";
import { api } from "../api.js";
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
} satisfies Record<keyof QueueStats, true>) as (keyof QueueStats)[];

/** Every queue the backend holds, with its counts. */
export function Home() {
  const queues = useLoad(() => api.queues(), "queues");
  if (queues.error) return <p class="problem">Could not list the queues: {queues.error.message}</p>;
  if (!queues.data) return <p class="muted">Loading…</p>;
  const names = Object.keys(queues.data).sort();
  if (names.length === 0) {
    return (
      <p class="muted">
        No queue holds a task yet. Add one, and it shows here (a queue of crons alone shows once its
        first run is added; open it as <code>#/q/&lt;name&gt;/crons</code>).
      </p>
    );
  }
  return (
    <section>
      <h2>Queues</h2>
      <table class="table" data-testid="queues">
        <thead>
          <tr>
            <th>queue</th>
            {SHOWN.map((status) => (
              <th key={status} class="num">
                {status}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <QueueRow key={name} name={name} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function QueueRow({ name }: { name: string }) {
  const stats = useLoad(() => api.stats(name), `stats|${name}`);
  return (
    <tr data-queue={name}>
      <td>
        <a href={href({ view: "queue", queue: name, tab: "tasks" })}>{name}</a>
      </td>
      {SHOWN.map((status) => (
        <td key={status} class="num" data-status={status}>
          {stats.data ? stats.data[status].toLocaleString("en") : stats.error ? "?" : "…"}
        </td>
      ))}
    </tr>
  );
}
