import type { QueueStats } from "../api.js";

const ORDER: (keyof QueueStats)[] = [
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
  onPick,
}: {
  stats: QueueStats | null;
  onPick?: (status: keyof QueueStats) => void;
}) {
  return (
    <div class="stats" data-testid="stats">
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
        </button>
      ))}
    </div>
  );
}
