/** How the dashboard writes times, durations and values. Times are UTC, as the CLI and crons use. */

/** `2026-11-30 16:02:11` (UTC), or `–`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** `140 ms`, `3.2 s`, `2 min 5 s`, `3 h 4 min` between two instants, or `–`. */
export function formatDuration(from: string | null, to: string | null): string {
  if (!from || !to) return "–";
  return formatMilliseconds(new Date(to).getTime() - new Date(from).getTime());
}

/** `140 ms`, `3.2 s`, `2 min 5 s`, `3 h 4 min`, or `–` for no length of time. */
export function formatMilliseconds(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  // Whole seconds first, so 119.7 s is 2 min 0 s, never 1 min 60 s.
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A queue's wait: `0 s` when nothing waits, else as {@link formatMilliseconds}. */
export function formatWait(ms: number): string {
  return ms === 0 ? "0 s" : formatMilliseconds(ms);
}

/** Characters of JSON shown before a value is cut (a browser lays out megabytes slowly). */
const SHOWN_JSON = 20_000;

/** JSON, indented, for arguments and results; a long one cut, saying how long it was. */
export function formatJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? "undefined";
  if (text.length <= SHOWN_JSON) return text;
  const size = new Blob([text]).size;
  return `${text.slice(0, SHOWN_JSON)}\n… cut: ${formatBytes(size)} in all (the API's GET /{queue}/tasks/{id} has it whole)`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The attempt a task is on, or `–` for one that has not started yet. */
export function attemptOf(task: {
  retryCount: number;
  manualRetryCount?: number;
  startedAt: string | null;
}): string {
  const attempt = task.retryCount + (task.manualRetryCount ?? 0) + 1;
  return task.startedAt === null && attempt === 1 ? "–" : String(attempt);
}

/** A cron's schedule as the CLI says it: `every 15 s`, `0 3 * * *`, or `0 3 * * * (Europe/Berlin)`. */
export function formatSchedule(cron: {
  expression: string | null;
  every: number | null;
  timezone: string | null;
}): string {
  if (cron.every !== null) return `every ${cron.every} s`;
  const text = cron.expression ?? "?";
  return cron.timezone === null || cron.timezone === "UTC" ? text : `${text} (${cron.timezone})`;
}
