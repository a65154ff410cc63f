import { useState } from "preact/hooks";
import { api, config } from "../api.js";

/**
 * "Retry failed": runs every failed task of the queue again (of the task
 * names the list shows, when it shows some) after a confirmation that says
 * how many would go (a dry run of the same redrive counts them: the page's
 * figure may be a refresh old, and does not split by name), and says how
 * many went. Hidden in read-only mode and while nothing has failed.
 */
export function RedriveButton({
  queue,
  failed,
  names,
  onDone,
}: {
  queue: string;
  failed: number | undefined;
  names: readonly string[];
  onDone: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  if (config.readOnly || (!failed && message === null)) return null;
  const which = names.length > 0 ? ` of ${names.join(", ")}` : "";
  return (
    <span class="redrive">
      {Boolean(failed) && (
        <button
          type="button"
          class="small"
          data-testid="retry-failed"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              const preview = await api.retryFailed(queue, names, true);
              if (preview.retried === 0) {
                setMessage(`No failed task${which} to run again`);
                onDone();
                return;
              }
              const count = `${preview.retried === 1 ? "the failed task" : `the ${preview.retried} failed tasks`}`;
              if (!confirm(`Run ${count}${which} again?`)) return;
              const { retried, skipped } = await api.retryFailed(queue, names);
              setMessage(
                `${retried} failed task${retried === 1 ? "" : "s"}${which} queued to run again${skipped > 0 ? ` (${skipped} skipped: they changed meanwhile, or are steps of an ended workflow)` : ""}`,
              );
              onDone();
            } catch (error) {
              setMessage(`Could not run the failed tasks again: ${(error as Error).message}`);
            } finally {
              setBusy(false);
            }
          }}
        >
          {busy ? "Retrying…" : `Retry failed${which}`}
        </button>
      )}
      {message && <span data-testid="redrive-message">{message}</span>}
    </span>
  );
}
