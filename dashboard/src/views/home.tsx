import { api } from "../api.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

/** Every queue the backend holds, with its pending count. */
export function Home() {
  const queues = useLoad(() => api.queues(), "queues");
  if (queues.error) return <p class="problem">Could not list the queues: {queues.error.message}</p>;
  if (!queues.data) return <p class="muted">Loading…</p>;
  const names = Object.keys(queues.data).sort();
  if (names.length === 0) {
    return <p class="muted">No queue holds a task yet. Add one, and it shows here.</p>;
  }
  return (
    <section>
      <h2>Queues</h2>
      <table class="table" data-testid="queues">
        <thead>
          <tr>
            <th>queue</th>
            <th class="num">pending</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <tr key={name}>
              <td>
                <a href={href({ view: "queue", queue: name, tab: "tasks" })}>{name}</a>
              </td>
              <td class="num">{queues.data?.[name]?.toLocaleString("en")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
