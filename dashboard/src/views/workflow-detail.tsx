import { useEffect, useState } from "preact/hooks";
import { ApiError, api, config } from "../api.js";
import { ErrorView } from "../components/error-view.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatJson, formatTime } from "../format.js";
import { useQueueFeed } from "../live.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

/** One workflow: arguments, outcome and each step's task, read again as its steps finish (and every 5 s while it runs). */
export function WorkflowDetail({ queue, id }: { queue: string; id: string }) {
  const detail = useLoad(() => api.workflow(queue, id), `${queue}|wf|${id}`);
  const [message, setMessage] = useState<string | null>(null);
  useQueueFeed(queue, (finished) => {
    if (finished.id === id || detail.data?.steps.some((step) => step?.id === finished.id)) {
      detail.reload();
    }
  });
  // Also read again every few seconds while it runs: a step asked for after the page last read
  // it (a resume's, a retry's) finishes under an id the page does not know yet.
  const running = detail.data?.workflow.status === "running";
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => detail.reload(), 5000);
    return () => clearInterval(timer);
  }, [running]);
  const back = (
    <p>
      <a href={href({ view: "queue", queue, tab: "workflows" })}>← workflows of {queue}</a>
    </p>
  );
  if (detail.error) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <section>
        {back}
        <p class="problem">
          {missing ? `Queue '${queue}' holds no workflow ${id}.` : detail.error.message}
        </p>
      </section>
    );
  }
  if (!detail.data) return <p class="muted">Loading…</p>;
  const { workflow, steps } = detail.data;
  return (
    <section data-testid="workflow-detail">
      {back}
      <h2>
        {workflow.name} <StatusBadge status={workflow.status} />
      </h2>
      <p class="muted">
        <code>{workflow.id}</code> · created {formatTime(workflow.createdAt)} · finished{" "}
        {formatTime(workflow.finishedAt)}
        {workflow.retryCount !== undefined && ` · retried ${workflow.retryCount}×`}
      </p>
      {!config.readOnly && workflow.status === "running" && (
        <div class="actions">
          <button
            type="button"
            onClick={async () => {
              if (
                !confirm(
                  `Cancel the workflow ${workflow.name} (${id})? Its waiting steps are cancelled and its body runs no further.`,
                )
              )
                return;
              try {
                await api.cancelWorkflow(queue, id);
                setMessage("Cancel: done");
                detail.reload();
              } catch (error) {
                setMessage(`Cancel: ${(error as Error).message}`);
              }
            }}
          >
            Cancel workflow
          </button>
        </div>
      )}
      {!config.readOnly && workflow.status === "failed" && (
        <div class="actions">
          <button
            type="button"
            title="A worker replays it as deployed now: the steps it saw last that did not complete run again as new tasks; steps that completed do not run again"
            onClick={async () => {
              try {
                await api.retryWorkflow(queue, id);
                setMessage("Retry: done; a worker replays it and runs its failed steps again");
                detail.reload();
              } catch (error) {
                setMessage(`Retry: ${(error as Error).message}`);
              }
            }}
          >
            Retry workflow
          </button>
        </div>
      )}
      {!config.readOnly && workflow.status !== "running" && (
        <div class="actions">
          <button
            type="button"
            class="danger"
            onClick={async () => {
              if (!confirm(`Delete the record of the workflow ${workflow.name} (${id})?`)) return;
              try {
                await api.removeWorkflow(queue, id);
                location.hash = href({ view: "queue", queue, tab: "workflows" });
              } catch (error) {
                setMessage(`Delete: ${(error as Error).message}`);
              }
            }}
          >
            Delete workflow
          </button>
        </div>
      )}
      {message && <p class="note">{message}</p>}
      <h3>Arguments</h3>
      <pre class="json">{formatJson(workflow.args)}</pre>
      {workflow.status === "completed" && (
        <>
          <h3>Result</h3>
          <pre class="json">{formatJson(workflow.result)}</pre>
        </>
      )}
      {workflow.error && (
        <>
          <h3>Error</h3>
          <ErrorView error={workflow.error} />
        </>
      )}
      <h3>Steps</h3>
      <table class="table">
        <thead>
          <tr>
            <th class="num">#</th>
            <th>task</th>
            <th>status</th>
            <th>finished / due</th>
          </tr>
        </thead>
        <tbody>
          {workflow.steps.map((step, i) => {
            const task = steps[i];
            return (
              <tr key={step.taskId}>
                <td class="num">{step.index}</td>
                <td>
                  <a href={href({ view: "task", queue, id: step.taskId })}>{step.name}</a>
                </td>
                <td>
                  {task ? (
                    <StatusBadge status={task.status} />
                  ) : (
                    <span class="muted">
                      {workflow.status === "running" && !workflow.pending.includes(step.taskId)
                        ? "asked for again at its replay"
                        : "gone"}
                    </span>
                  )}
                </td>
                <td>
                  {task?.status === "scheduled" && task.scheduledAt
                    ? `due ${formatTime(task.scheduledAt)}`
                    : formatTime(task?.finishedAt)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
