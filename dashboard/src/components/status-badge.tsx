import type { TaskStatus } from "../api.js";

/** A task's (or workflow's) status as a coloured label. */
export function StatusBadge({ status }: { status: TaskStatus | string }) {
  return (
    <span class={`badge status-${status}`} data-status={status}>
      {status}
    </span>
  );
}
