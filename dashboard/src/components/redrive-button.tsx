import { useState } from "preact/hooks";
import { api, config } from "../api.js";

/**
 * "Retry failed": runs every failed task of the queue again (of the task
 * names the list shows, when it shows some) after a confirmation, and says
 * how many went. Hidden in read-only mode and while nothing has failed.
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
            const count = names.length > 0 ? "the failed tasks" : `the ${failed} failed tasks`;
            if (!confirm(`Run ${count}${which} again?`)) return;
            setBusy(true);
            try {
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
