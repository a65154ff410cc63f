/**
 * One task: arguments, result, progress and log, error (stack and causes), attempts and
 * timestamps, with Retry / Cancel / Delete unless the API is read-only. It
 * reads the task again when the event stream says it finished, so a retried
 * task's new outcome shows without a reload (and every few seconds while it
 * is unfinished, in case an event was missed).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, type ClaimHeartbeat, config, type TaskWithClaim } from "../api.js";
import { ErrorView } from "../components/error-view.js";
import { StatusBadge } from "../components/status-badge.js";
import {
  attemptOf,
  formatDuration,
  formatJson,
  formatMilliseconds,
  formatTime,
} from "../format.js";
import { useQueueFeed } from "../live.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

/** Statuses a task ends in with its own error; any other keeps an earlier attempt's. */
const ENDED_IN_ERROR: ReadonlySet<string> = new Set(["failed", "crashed", "cancelled"]);

const FINISHED = new Set(["completed", "failed", "crashed", "cancelled"]);
const CANCELLABLE = new Set(["new", "pending", "scheduled", "retrying", "processing"]);
/** Statuses of a task that waits for a time: "Run now" moves it to now. */
const WAITING_FOR_A_TIME = new Set(["scheduled", "retrying"]);

/**
 * A cron's run waiting for its fire time: the server refuses to start it
 * earlier (run early, it would run again at that time), so no button offers it.
 */
function isCronRunAhead(task: { status: string; cronId?: string | null }): boolean {
  return task.status === "scheduled" && Boolean(task.cronId);
}

export function TaskDetail({ queue, id }: { queue: string; id: string }) {
  const task = useLoad(() => api.task(queue, id), `${queue}|${id}`);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  // An action is done but the page does not show its effect yet: its buttons stay off until the
  // task read again answers, or a double click's second click would act again on the old state.
  const showing = useRef(false);
  useEffect(() => {
    if (!showing.current || task.loading) return;
    showing.current = false;
    inFlight.current = false;
    setBusy(false);
  }, [task.data, task.error, task.loading]);
  const feed = useQueueFeed(queue, (finished) => {
    if (finished.id === id) task.reload();
  });
  const unfinished = task.data !== undefined && !FINISHED.has(task.data.status);
  // polls only while unfinished
  useEffect(() => {
    if (!unfinished) return;
    const timer = setInterval(() => task.reload(), 5000);
    return () => clearInterval(timer);
  }, [unfinished]);

  if (task.error) {
    const missing = task.error instanceof ApiError && task.error.status === 404;
    return (
      <section>
        <BackLink queue={queue} />
        <p class="problem" data-testid="task-missing">
          {missing
            ? `Queue '${queue}' holds no task ${id}${id.includes("…") ? " (paste a task's full id: the part shown in a list is not enough)" : ""}.`
            : task.error.message}
        </p>
      </section>
    );
  }
  const data = task.data;
  if (!data) return <p class="muted">Loading…</p>;

  /** Runs `action` (`null`: the user thought better of it) and says how it went; one at a time. */
  const act =
    (label: string, action: () => Promise<unknown> | null, after?: () => void) => async () => {
      // A ref, not the state: a double click's second click comes before the page redraws.
      if (inFlight.current) return;
      inFlight.current = true;
      setMessage(null);
      setBusy(true);
      try {
        const done = action();
        if (done === null) return;
        await done;
        setMessage(`${label}: done`);
        if (after) after();
        else {
          showing.current = true;
          task.reload();
        }
      } catch (error) {
        setMessage(`${label}: ${(error as Error).message}`);
      } finally {
        if (!showing.current) {
          inFlight.current = false;
          setBusy(false);
        }
      }
    };

  return (
    <section data-testid="task-detail" data-status={data.status}>
      <BackLink queue={queue} />
      <h2>
        {data.name} <StatusBadge status={data.status} />
      </h2>
      <p class="muted">
        <code>{data.id}</code>
      </p>
      {!config.readOnly && (
        <div class="actions" data-testid="actions">
          {FINISHED.has(data.status) && (
            <button
              type="button"
              disabled={busy}
              onClick={act("Retry", () => {
                const force = data.status === "completed";
                if (force && !confirm("This task completed. Run it again?")) return null;
                return api.retry(queue, id, force);
              })}
            >
              Retry
            </button>
          )}
          {WAITING_FOR_A_TIME.has(data.status) && !isCronRunAhead(data) && (
            <button
              type="button"
              disabled={busy}
              onClick={act("Run now", () => api.reschedule(queue, id))}
            >
              Run now
            </button>
          )}
          {CANCELLABLE.has(data.status) && (
            <button
              type="button"
              disabled={busy}
              onClick={act("Cancel", () => {
                const force = data.status === "processing";
                if (
                  force &&
                  !confirm(
                    "This task is running. Cancel it? Its signal fires and whatever it does from now on is discarded.",
                  )
                )
                  return null;
                return api.cancel(queue, id, force);
              })}
            >
              Cancel
            </button>
          )}
          {FINISHED.has(data.status) && (
            <button
              type="button"
              class="danger"
              disabled={busy}
              onClick={act(
                "Delete",
                () => (confirm("Delete this task's record?") ? api.remove(queue, id) : null),
                () => {
                  location.hash = href({ view: "queue", queue, tab: "tasks" });
                },
              )}
            >
              Delete
            </button>
          )}
        </div>
      )}
      {message && <p class="note">{message}</p>}
      {feed.problem && (
        <p class="problem-banner" data-testid="feed-problem">
          {feed.problem}
        </p>
      )}
      <Facts queue={queue} task={data} />
      <h3>Arguments</h3>
      <pre class="json" data-testid="args">
        {formatJson(data.args)}
      </pre>
      {data.status === "completed" && (
        <>
          <h3>Result</h3>
          <pre class="json" data-testid="result">
            {formatJson(data.result)}
          </pre>
        </>
      )}
      {data.progress !== undefined && (
        <>
          <h3>Progress</h3>
          <pre class="json" data-testid="progress">
            {formatJson(data.progress)}
          </pre>
        </>
      )}
      {(data.logs?.length ?? 0) > 0 && (
        <>
          <h3>Log</h3>
          <pre class="log" data-testid="logs">
            {data.logs!.join("\n")}
          </pre>
        </>
      )}
      {data.error && (
        <>
          {ENDED_IN_ERROR.has(data.status) ? (
            <h3>Error</h3>
          ) : (
            // Retrying, re-queued, running again, or completed on a later attempt: not its outcome.
            <h3 data-testid="earlier-error">Last error (of an earlier attempt)</h3>
          )}
          <ErrorView error={data.error} />
        </>
      )}
      <h3>Options</h3>
      <pre class="json">{formatJson(data.config)}</pre>
      {Object.keys(data.meta ?? {}).length > 0 && (
        <>
          <h3>Meta</h3>
          <pre class="json">{formatJson(data.meta)}</pre>
        </>
      )}
    </section>
  );
}

/**
 * A running task's heartbeat: how long ago its worker renewed the claim; past
 * the lease it claimed it under, the worker is likely gone, and this says so.
 */
function heartbeatOf(claim: ClaimHeartbeat): string {
  const ago = `${formatMilliseconds(claim.renewedAgoMs)} ago`;
  if (claim.leaseMs === null || claim.renewedAgoMs <= claim.leaseMs) return ago;
  return `${ago}: past its ${formatMilliseconds(claim.leaseMs)} lease, its worker is likely gone (a worker of this queue takes it over once one runs)`;
}

function Facts({ queue, task }: { queue: string; task: TaskWithClaim }) {
  const rows: [string, string][] = [
    ["attempt", attemptOf(task)],
    ["automatic retries", String(task.retryCount)],
    ["retries by hand", String(task.manualRetryCount ?? 0)],
    ["created", formatTime(task.createdAt)],
    ["scheduled for", formatTime(task.scheduledAt)],
    ["started", formatTime(task.startedAt)],
    ...(task.status === "processing" && task.claim
      ? [["heartbeat", heartbeatOf(task.claim)] as [string, string]]
      : []),
    ...(task.status === "processing" && task.claim?.worker
      ? [
          [
            "worker",
            `${task.claim.worker.id.slice(0, 8)} on ${task.claim.worker.host} (pid ${task.claim.worker.pid})`,
          ] as [string, string],
        ]
      : []),
    ["finished", formatTime(task.finishedAt)],
    ["took", formatDuration(task.startedAt, task.finishedAt)],
    ["last retry", formatTime(task.lastRetryAt)],
  ];
  // A retry time means something only while the task waits for it.
  if (task.status === "retrying") rows.push(["next retry", formatTime(task.nextRetryAt)]);
  if (task.cronId) rows.push(["cron", task.cronId]);
  // Why a pending task may wait while others run: its key's slots are taken.
  if (task.concurrencyKey !== null && task.concurrencyKey !== undefined)
    rows.push([
      "concurrency key",
      `${JSON.stringify(task.concurrencyKey)}, at most ${task.concurrencyLimit ?? 1} at once`,
    ]);
  if (task.priority) rows.push(["priority", String(task.priority)]);
  return (
    <dl class="facts">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
      {task.workflowId && (
        <div>
          <dt>workflow</dt>
          <dd>
            <a href={href({ view: "workflow", queue, id: task.workflowId })}>{task.workflowId}</a>
          </dd>
        </div>
      )}
    </dl>
  );
}

function BackLink({ queue }: { queue: string }) {
  return (
    <p>
      <a href={href({ view: "queue", queue, tab: "tasks" })}>← queue {queue}</a>
    </p>
  );
}
