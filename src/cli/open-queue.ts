/**
 * @module cli/open-queue
 * The backend and queues a command works on, built from its resolved
 * settings (the CLI passes everything explicitly: `Queue` never falls back to
 * the environment here). Commands close what they open, so the process can
 * exit on its own.
 */
import type { Backend } from "../backends/backend.js";
import { CliUsageError } from "../errors.js";
import "../backends/builtin.js";
import { backendFromUrl } from "../backends/registry.js";
import { Queue } from "../queue/queue.js";

/** Settings every backend-using command has. */
export interface BackendSettings {
  readonly backendUrl?: string;
}

/** The backend named by `--backend-url` / `SHEPPY_BACKEND_URL`; none given is a usage error. */
export function openBackend(settings: BackendSettings): Backend {
  const url = settings.backendUrl?.trim();
  if (!url) {
    throw new CliUsageError(
      "no backend URL: pass --backend-url (e.g. redis://127.0.0.1:6379) or set SHEPPY_BACKEND_URL",
    );
  }
  return backendFromUrl(url);
}

/** Runs `use` with a queue of that name on the configured backend, then disconnects. */
export async function withQueue<T>(
  settings: BackendSettings & { readonly queue: string },
  use: (queue: Queue) => Promise<T>,
): Promise<T> {
  const queue = new Queue(openBackend(settings), { name: settings.queue });
  try {
    await queue.connect();
    return await use(queue);
  } finally {
    await queue.close().catch(() => undefined);
  }
}
