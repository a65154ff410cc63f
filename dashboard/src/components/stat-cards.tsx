import type { QueueStats, StageCount } from "../api.js";
import { formatWait } from "../format.js";

const ORDER: StageCount[] = [
  "pending",
  "scheduled",
  "processing",
  "completed",
  "failed",
  "crashed",
  "cancelled",
];

/** A queue's counts by status; a click on one filters the task table by it. */
export function StatCards({
  stats,
  latencyMs,
  stale = false,
  onPick,
}: {
  stats: QueueStats | null;
  /** How long the next task to be claimed has waited since it was due; left out when not known. */
  latencyMs?: number | undefined;
  /** The counts may be out of date (the backend does not answer): shown greyed. */
  stale?: boolean;
  onPick?: (status: StageCount) => void;
}) {
  return (
    <div class={stale ? "stats stale" : "stats"} data-testid="stats">
      {ORDER.map((status) => (
        <button
          type="button"
          key={status}
          class={`stat status-${status}`}
          data-stat={status}
          onClick={() => onPick?.(status)}
        >
          <span class="stat-value">{stats ? stats[status].toLocaleString("en") : "…"}</span>
          <span class="stat-label">{status}</span>
          {status === "pending" && (stats?.held ?? 0) > 0 && (
            <span
              class="stat-note"
              data-testid="held"
              title="pending tasks waiting for a free slot of their concurrency key: they wait even while workers are idle"
            >
              {stats!.held!.toLocaleString("en")} held for their key
            </span>
          )}
        </button>
      ))}
      {latencyMs !== undefined && (
        <div
          class="stat waited"
          data-stat="waited"
          title="how long the next task to be claimed has waited since it was due"
        >
          <span class="stat-value">{formatWait(latencyMs)}</span>
          <span class="stat-label">next task waited</span>
        </div>
      )}
    </div>
  );
}
