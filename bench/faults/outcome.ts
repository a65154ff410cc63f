/**
 * How the added tasks ended, read back from the queue: statuses, the tasks
 * that are missing or never reached a final status (lost), and when the last
 * one finished. Waiting for a drain gives up once the queue has been idle for
 * a while, because a lost task is one that never finishes — waiting for it
 * would never end.
 */
import type { Queue, Task } from "sheppy";

const FINAL = new Set(["completed", "failed", "crashed", "cancelled"]);
const READ_BATCH = 500;

export interface Outcome {
  readonly statuses: Record<string, number>;
  /** Ids the queue does not hold at all. */
  readonly missing: readonly string[];
  /** Ids held but never finished. */
  readonly unfinished: readonly string[];
  /** Latest `finishedAt` among the tasks (epoch ms), or null. */
  readonly lastFinishedAt: number | null;
  readonly records: ReadonlyMap<string, Task | null>;
}

export async function readOutcome(queue: Queue, ids: readonly string[]): Promise<Outcome> {
  const records = new Map<string, Task | null>();
  for (let i = 0; i < ids.length; i += READ_BATCH) {
    const batch = ids.slice(i, i + READ_BATCH);
    const found = await queue.getTask(batch);
    batch.forEach((id, j) => {
      records.set(id, found[j] ?? null);
    });
  }
  const statuses: Record<string, number> = {};
  const missing: string[] = [];
  const unfinished: string[] = [];
  let lastFinishedAt: number | null = null;
  for (const [id, task] of records) {
    const status = task?.status ?? "missing";
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (!task) missing.push(id);
    else if (!FINAL.has(task.status)) unfinished.push(id);
    const finished = task?.finishedAt?.getTime();
    if (finished !== undefined && (lastFinishedAt === null || finished > lastFinishedAt)) {
      lastFinishedAt = finished;
    }
  }
  return { statuses, missing, unfinished, lastFinishedAt, records };
}

/**
 * Waits until every one of `ids` is finished (a refused one may be missing), or the queue has had nothing
 * pending, due or running for `idleMs` (what is left then is lost), or
 * `timeoutMs` passes. Returns the outcome at that point.
 */
export async function waitForDrain(
  queue: Queue,
  ids: readonly string[],
  { timeoutMs = 120_000, idleMs = 5_000, refused = new Set<string>() as ReadonlySet<string> } = {},
): Promise<Outcome> {
  // A refused add may be missing for good: it is not waited for.
  const done = (outcome: Outcome) =>
    outcome.unfinished.length === 0 && outcome.missing.every((id) => refused.has(id));
  const deadline = Date.now() + timeoutMs;
  let idleSince: number | undefined;
  for (;;) {
    const stats = await queue.stats().catch(() => undefined);
    const busy = stats ? stats.pending + stats.scheduled + stats.processing : 1;
    if (busy === 0) {
      idleSince ??= Date.now();
      const outcome = await readOutcome(queue, ids);
      if (done(outcome) || Date.now() - idleSince >= idleMs) return outcome;
    } else idleSince = undefined;
    if (Date.now() > deadline) return readOutcome(queue, ids);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
