import { useState } from "preact/hooks";
import { api, config } from "../api.js";
import { formatJson, formatSchedule, formatTime } from "../format.js";
import { useLoad } from "../use-load.js";

/** The queue's crons: schedule, task, arguments and next run. */
export function CronList({ queue }: { queue: string }) {
  const crons = useLoad(() => api.crons(queue), `crons|${queue}`);
  const [message, setMessage] = useState<string | null>(null);
  if (crons.error) return <p class="problem">Could not read the crons: {crons.error.message}</p>;
  if (!crons.data) return <p class="muted">Loading…</p>;
  if (crons.data.length === 0) return <p class="muted">This queue has no cron.</p>;
  return (
    <>
      {message && <p class="note">{message}</p>}
      <table class="table" data-testid="crons">
        <thead>
          <tr>
            <th>id</th>
            <th>schedule</th>
            <th>task</th>
            <th>arguments</th>
            <th>next run (UTC)</th>
            <th>managed by</th>
            {!config.readOnly && <th />}
          </tr>
        </thead>
        <tbody>
          {crons.data.map((cron) => (
            <tr key={cron.deterministicId}>
              <td>
                <code>{cron.deterministicId}</code>
              </td>
              <td>
                <code>{formatSchedule(cron)}</code>
              </td>
              <td>{cron.name}</td>
              <td>
                <code>{formatJson(cron.args).replace(/\s+/g, " ")}</code>
              </td>
              <td>{formatTime(cron.nextRunAt)}</td>
              <td>{cron.managedBy === "config" ? "config file" : "code, CLI or HTTP API"}</td>
              {!config.readOnly && cron.managedBy === "config" && (
                <td class="muted" title="its workers would create it again">
                  remove it from the config file
                </td>
              )}
              {!config.readOnly && cron.managedBy !== "config" && (
                <td>
                  <button
                    type="button"
                    class="danger small"
                    onClick={async () => {
                      if (!confirm(`Delete the cron ${formatSchedule(cron)} ${cron.name}?`)) return;
                      try {
                        await api.deleteCron(queue, cron.deterministicId);
                        setMessage(`Deleted the cron ${cron.deterministicId}`);
                        crons.reload();
                      } catch (error) {
                        setMessage(`Delete: ${(error as Error).message}`);
                      }
                    }}
                  >
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
