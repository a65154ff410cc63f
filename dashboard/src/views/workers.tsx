import { useEffect } from "preact/hooks";
import { api, type WorkerInfo } from "../api.js";
import { formatMilliseconds, formatTime } from "../format.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

/** What a worker does, in a word or three. */
function roles(worker: WorkerInfo): string {
  const does = [
    worker.processing ? "tasks" : null,
    worker.scheduler ? "scheduler" : null,
    worker.cronManager ? "crons" : null,
  ].filter((role) => role !== null);
  return does.join(", ") || "–";
}

/**
 * The workers serving the queue now, read again every 5 s (each announces
 * itself every heartbeat): where each runs, what it holds against its
 * concurrency, what it does, when it started and when it was last heard of.
 */
export function WorkerList({ queue }: { queue: string }) {
  const workers = useLoad(() => api.workers(queue), `workers|${queue}`);
  useEffect(() => {
    const timer = setInterval(() => workers.reload(), 5000);
    return () => clearInterval(timer);
  }, [queue]);
  if (workers.error) {
    return <p class="problem">Could not read the workers: {workers.error.message}</p>;
  }
  if (!workers.data) return <p class="muted">Loading…</p>;
  const list = workers.data.workers;
  if (list === null) {
    return <p class="muted">This backend does not keep track of workers.</p>;
  }
  if (list.length === 0) {
    return (
      <p class="muted" data-testid="no-workers-listed">
        No worker serves this queue now. Start one with <code>sheppy work -q {queue}</code> and the
        modules that define its tasks.
      </p>
    );
  }
  return (
    <table class="table" data-testid="workers">
      <thead>
        <tr>
          <th>worker</th>
          <th>host</th>
          <th>pid</th>
          <th>state</th>
          <th>holding</th>
          <th>does</th>
          <th>queues</th>
          <th>started (UTC)</th>
          <th>last heard</th>
          <th>version</th>
        </tr>
      </thead>
      <tbody>
        {list.map((worker) => (
          <tr key={worker.id}>
            <td>
              <code title={worker.id}>{worker.id.slice(0, 8)}</code>
            </td>
            <td>{worker.host}</td>
            <td>{worker.pid}</td>
            <td>{worker.state}</td>
            <td>
              {worker.processing ? (
                <>
                  {worker.holding} here · {worker.holdingAll} / {worker.concurrency} in all
                  {worker.taskIds.slice(0, 3).map((id) => (
                    <>
                      {" "}
                      {/* A task id's first characters are its time: its last ones tell tasks apart. */}
                      <a href={href({ view: "task", queue, id })} title={id}>
                        <code>…{id.slice(-8)}</code>
                      </a>
                    </>
                  ))}
                  {worker.taskIds.length > 3 && " …"}
                </>
              ) : (
                "–"
              )}
            </td>
            <td>{roles(worker)}</td>
            <td>{worker.queues.join(", ")}</td>
            <td>{formatTime(worker.startedAt)}</td>
            <td>
              {formatMilliseconds(worker.seenAgoMs)} ago
              {worker.everyMs > 0 && worker.seenAgoMs > 2 * worker.everyMs + 1000 && " (late)"}
            </td>
            <td>{worker.version || "–"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
