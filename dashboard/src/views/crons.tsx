import { api } from "../api.js";
import { formatJson, formatTime } from "../format.js";
import { useLoad } from "../use-load.js";

/** The queue's crons: expression, task, arguments and next run. */
export function CronList({ queue }: { queue: string }) {
  const crons = useLoad(() => api.crons(queue), `crons|${queue}`);
  if (crons.error) return <p class="problem">Could not read the crons: {crons.error.message}</p>;
  if (!crons.data) return <p class="muted">Loading…</p>;
  if (crons.data.length === 0) return <p class="muted">This queue has no cron.</p>;
  return (
    <table class="table" data-testid="crons">
      <thead>
        <tr>
          <th>expression</th>
          <th>task</th>
          <th>arguments</th>
          <th>next run</th>
          <th>from</th>
        </tr>
      </thead>
      <tbody>
        {crons.data.map((cron) => (
          <tr key={cron.deterministicId}>
            <td>
              <code>{cron.expression}</code>
            </td>
            <td>{cron.name}</td>
            <td>
              <code>{formatJson(cron.args).replace(/\s+/g, " ")}</code>
            </td>
            <td>{formatTime(cron.nextRunAt)}</td>
            <td>{cron.managedBy ?? "code"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
