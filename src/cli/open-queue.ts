/**
 * @module cli/open-queue
 * The backend and queues a command works on, built from its resolved
 * settings (the CLI passes everything explicitly: `Queue` never falls back to
 * the environment here). Commands close what they open, so the process can
 * exit on its own.
 */
import type { Command } from "commander";
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

/** Whether `-q` / `SHEPPY_QUEUE` named the queue (otherwise a task id is looked for in every queue). */
export function queueGiven(cmd: Command): boolean {
  return cmd.getOptionValueSource("queue") !== "default";
}

/**
 * Runs `use` with the queue that holds task `id`. With `-q` (or
 * `SHEPPY_QUEUE`) given, that queue; otherwise ids are unique, so the
 * default queue is looked in first, then every queue the backend knows; an
 * id held by more than one queue asks for `-q`, and an id held by none is
 * left to `use` on the default queue to report.
 */
export async function withQueueOf<T>(
  settings: BackendSettings & { readonly queue: string },
  id: string,
  queueGiven: boolean,
  use: (queue: Queue) => Promise<T>,
): Promise<T> {
  if (queueGiven) return withQueue(settings, use);
  const backend = openBackend(settings);
  const fallback = new Queue(backend, { name: settings.queue });
  try {
    await fallback.connect();
    if (await fallback.getTask(id)) return await use(fallback);
    const holders: Queue[] = [];
    // Sorted: the backend's list has no order of its own, and the message must be stable.
    for (const name of [...(await backend.listQueues()).keys()].sort()) {
      if (name === settings.queue) continue;
      const queue = new Queue(backend, { name });
      if (await queue.getTask(id)) holders.push(queue);
    }
    if (holders.length > 1) {
      throw new CliUsageError(
        `task ${id} is in several queues (${holders.map((q) => q.name).join(", ")}): pass -q <queue>`,
      );
    }
    return await use(holders[0] ?? fallback);
  } finally {
    await fallback.close().catch(() => undefined);
  }
}
