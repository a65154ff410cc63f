import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, config, type QueueInfo, type StageCount } from "../api.js";
import { RedriveButton } from "../components/redrive-button.js";
import { StatCards } from "../components/stat-cards.js";
import { ThroughputChart } from "../components/throughput-chart.js";
import { useQueueFeed } from "../live.js";
import { href, type Route } from "../router.js";
import { useLoad } from "../use-load.js";
import { CronList } from "./crons.js";
import { TaskTable } from "./task-table.js";
import { WorkerList } from "./workers.js";
import { WorkflowList } from "./workflows.js";

const STAT_STATUSES: Record<StageCount, string[]> = {
  pending: ["pending"],
  scheduled: ["scheduled", "retrying"],
  processing: ["processing"],
  completed: ["completed"],
  failed: ["failed"],
  crashed: ["crashed"],
  cancelled: ["cancelled"],
};

/**
 * How many tasks wait or run while no worker runs the queue's tasks (0 when
 * some worker does, or when the backend cannot tell): the likeliest reason
 * a queue's tasks do not move.
 */
function unserved(stats: QueueInfo | null | undefined): number {
  if (stats?.workers !== 0) return 0;
  return stats.pending + stats.processing;
}

/**
 * Pauses or resumes the queue (not in read-only mode); shows which it is.
 * The state comes from the live counts, and is read again after a click. A
 * change the backend did not answer in time may be made all the same: once
 * the live counts show the queue in the other state, the failure said
 * beside the button no longer holds, and goes.
 */
function PauseControl({
  queue,
  paused,
  onChange,
}: {
  queue: string;
  paused: boolean | undefined;
  onChange: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  // The queue seen in the other state: what the last click failed to say no longer holds.
  useEffect(() => setMessage(null), [paused]);
  if (paused === undefined) return null;
  return (
    <div class="pause-control">
      {paused && (
        <span class="badge paused" data-testid="paused">
          paused: no worker claims its tasks
        </span>
      )}
      {!config.readOnly && (
        <button
          type="button"
          class="small"
          data-testid="pause-toggle"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await (paused ? api.resume(queue) : api.pause(queue));
              setMessage(null);
              onChange();
            } catch (error) {
              setMessage(`${paused ? "Resume" : "Pause"}: ${(error as Error).message}`);
            } finally {
              setBusy(false);
            }
          }}
        >
          {busy ? (paused ? "Resuming…" : "Pausing…") : paused ? "Resume" : "Pause"}
        </button>
      )}
      {message && <span class="problem">{message}</span>}
    </div>
  );
}

/** One queue: its counts, the live throughput chart, and its tasks, crons and workflows. */
export function QueueView({ route }: { route: Extract<Route, { view: "queue" }> }) {
  const filter = route.statuses ?? [];
  const names = route.names ?? [];
  // A new filter is a new address: Back returns to the one before, and to it from a task.
  const setFilter = (statuses: readonly string[], named: readonly string[] = names) => {
    location.hash = href({
      view: "queue",
      queue: route.queue,
      tab: "tasks",
      statuses,
      names: named,
    });
  };
  const [finishedRound, setFinishedRound] = useState(0);
  const feed = useQueueFeed(route.queue, () => setFinishedRound((n) => n + 1));
  // Back from an outage: what changed meanwhile was not heard, so the list reads again too.
  const wasDown = useRef(false);
  useEffect(() => {
    if (feed.problem !== null) wasDown.current = true;
    else if (feed.live && wasDown.current) {
      wasDown.current = false;
      setFinishedRound((n) => n + 1);
    }
  }, [feed.live, feed.problem]);
  // A name nothing uses (a typo in the address) is said so, with nothing to pause: the stream
  // answers any name, the API's reads only a queue that holds something. Asked again as the
  // counts change, so the page follows once a first task arrives.
  const known = useLoad(
    () =>
      api.stats(route.queue).then(
        () => true,
        (error: unknown) => !(error instanceof ApiError && error.status === 404),
      ),
    `known|${route.queue}|${JSON.stringify(feed.stats)}`,
  );
  const unknown = known.data === false;
  const tab = (name: "tasks" | "crons" | "workflows" | "workers", label: string) => (
    <a
      class={route.tab === name ? "tab active" : "tab"}
      href={href({ view: "queue", queue: route.queue, tab: name })}
    >
      {label}
    </a>
  );
  return (
    <section>
      <h2>
        Queue <code>{route.queue}</code>
        <span
          class={feed.live ? "live on" : feed.problem ? "live down" : "live"}
          title="live updates"
          data-testid="live"
        >
          {feed.live ? "live" : feed.problem ? "not live" : "connecting…"}
        </span>
      </h2>
      {unknown ? (
        <p class="note" data-testid="unknown-queue">
          No queue named <code>{route.queue}</code> holds anything yet: no task, cron or workflow.
          Check the name; the page follows once a task is added to it.
        </p>
      ) : (
        <div class="queue-controls">
          <PauseControl queue={route.queue} paused={feed.stats?.paused} onChange={feed.reload} />
          <RedriveButton
            queue={route.queue}
            failed={feed.stats?.failed}
            names={names}
            onDone={() => {
              feed.reload();
              setFinishedRound((n) => n + 1);
            }}
          />
        </div>
      )}
      {unserved(feed.stats) > 0 && (
        <p class="problem-banner" data-testid="no-workers">
          {unserved(feed.stats)} task{unserved(feed.stats) === 1 ? "" : "s"} pending or running, and
          no worker runs this queue's tasks (
          <a href={href({ view: "queue", queue: route.queue, tab: "workers" })}>workers</a>).
        </p>
      )}
      {feed.problem && (
        <p class="problem-banner" data-testid="feed-problem">
          {feed.problem}
        </p>
      )}
      <StatCards
        stale={feed.problem !== null}
        stats={feed.stats}
        latencyMs={feed.stats?.latencyMs}
        onPick={(status) => setFilter(STAT_STATUSES[status])}
      />
      <ThroughputChart throughput={feed.throughput} />
      <nav class="tabs">
        {tab("tasks", "Tasks")}
        {tab("crons", "Crons")}
        {tab("workflows", "Workflows")}
        {tab("workers", "Workers")}
      </nav>
      {route.tab === "tasks" && (
        <TaskTable
          queue={route.queue}
          statuses={filter}
          onStatuses={setFilter}
          names={names}
          onNames={(named) => setFilter(filter, named)}
          finishedRound={finishedRound}
        />
      )}
      {route.tab === "crons" && <CronList queue={route.queue} />}
      {route.tab === "workers" && <WorkerList queue={route.queue} />}
      {route.tab === "workflows" && (
        <WorkflowList queue={route.queue} running={route.running === true} />
      )}
    </section>
  );
}
