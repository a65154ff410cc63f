/**
 * @module queue/add-entries
 * A list add whose entries each carry options of their own — an id of the
 * caller's, a dedupe key, a due time, a priority, a concurrency key — the
 * shape of a bulk import (BullMQ's `addBulk`, pg-boss's `insert`). One call
 * to the backend per run of entries alike (under a dedupe key or not), in the
 * list's order, one producer span for the whole list; answered entry by
 * entry, in the list's order, with what became of each — as adding each
 * entry alone, in order, would.
 */

import type { Backend, DedupeEntry, SqlTransaction } from "../backends/backend.js";
import { createdOn, isoAt } from "../clock.js";
import {
  BackendError,
  InvalidOptionError,
  InvalidTaskError,
  TaskIdConflictError,
} from "../errors.js";
import type { ConcurrencyOptions } from "../task/concurrency.js";
import { copyTaskData, Task, type TaskData } from "../task/task-record.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import { addedEventFor, addOptionsFor } from "./add-events.js";
import {
  type AddResult,
  type CheckedDedupe,
  checkDedupe,
  checkTaskId,
  type DedupeOptions,
} from "./dedupe-options.js";
import { concurrencyOf, type PlainEnqueueOptions, priorityOf } from "./enqueue-options.js";
import { addAgainIfExpired } from "./expired-ids.js";
import { resolveDueTime } from "./instant.js";
import { PORTED_ENTRY_OPTIONS, refusePortedOption } from "./ported-options.js";
import { publishTraced } from "./publish-span.js";
import type { QueueHandle } from "./queue-handle.js";
import { checkTasks, describeNonTask } from "./task-refs.js";

/**
 * One task of a list given to `queue.add`, with the options of its own add.
 * An option left out takes the call's (`priority`, `concurrency`), else the
 * task's own.
 */
export interface AddEntry<T extends Task = Task> {
  task: T;
  /** Store it under this id of yours; an id the queue holds is not added again (see docs/dedupe.md). */
  id?: string | undefined;
  /** Add it under this dedupe key (see docs/dedupe.md). */
  dedupe?: DedupeOptions | undefined;
  /** Run it at this time instead of now: a `Date`, ISO-8601 text with an offset, or a delay in seconds. */
  at?: Date | number | string | undefined;
  /** Claimed by this priority instead of the call's or the task's (higher first; an integer). */
  priority?: number | undefined;
  /** Run under this concurrency key (and limit) instead of the call's or the task's. */
  concurrency?: ConcurrencyOptions | undefined;
}

/** The keys of an entry (the compiler keeps the list complete). */
const ENTRY_KEYS = Object.keys({
  task: true,
  id: true,
  dedupe: true,
  at: true,
  priority: true,
  concurrency: true,
} satisfies Record<keyof AddEntry, true>);

/**
 * Whether `list` is a list of entries rather than of tasks: an item that is
 * an object with a `task` member, not a `Task` itself. Every item is then
 * held to an entry's shape.
 */
export function isEntryList(list: readonly unknown[]): boolean {
  return list.some(
    (item) =>
      typeof item === "object" &&
      item !== null &&
      !(item instanceof Task) &&
      Object.hasOwn(item, "task"),
  );
}

/** One entry, checked, with the record it stores. */
export interface CheckedEntry {
  readonly record: TaskData;
  readonly callerId: boolean;
  readonly dedupe: CheckedDedupe | undefined;
  readonly due: number | undefined;
}

/** Checks entry `index` of `where`'s list and builds its record; throws a one-line error naming the entry. */
function checkEntry(
  queue: QueueHandle,
  item: unknown,
  index: number,
  defaults: { priority: number | undefined; concurrency: ReturnType<typeof concurrencyOf> },
  now: number,
  where: string,
): CheckedEntry {
  const at = `${where}: item [${index}]`;
  if (item instanceof Task) {
    throw new InvalidTaskError(
      `${at} is a Task in a list of entries; write it as { task } (a list is all tasks or all entries)`,
    );
  }
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new InvalidTaskError(
      `${at} is ${describeNonTask(item)}, not an entry { task, id?, dedupe?, at?, priority?, concurrency? }`,
    );
  }
  refusePortedOption(item, PORTED_ENTRY_OPTIONS, at);
  checkOptionKeys(item, ENTRY_KEYS, at);
  const entry = item as AddEntry;
  if (!(entry.task instanceof Task)) {
    throw new InvalidTaskError(`${at}: task must be a Task; got ${describeNonTask(entry.task)}`);
  }
  checkTasks([entry.task], at, queue.maxPayloadBytes, false);
  const id = entry.id === undefined ? undefined : checkTaskId(entry.id, at);
  const dedupe = entry.dedupe === undefined ? undefined : checkDedupe(entry.dedupe, at);
  const priority = priorityOf(entry, at) ?? defaults.priority;
  const concurrency = concurrencyOf(entry, at) ?? defaults.concurrency;
  const due = entry.at === undefined ? undefined : resolveDueTime(entry.at, now, at);
  const data = entry.task.toJSON();
  const record = copyTaskData(data, {
    ...(id === undefined ? {} : { id }),
    status: due === undefined ? "pending" : "scheduled",
    createdAt: createdOn(queue.clock, data.createdAt),
    ...(due === undefined ? {} : { scheduledAt: isoAt(due) }),
    ...(priority === undefined ? {} : { priority }),
    ...concurrency,
    ...(dedupe === undefined ? {} : { dedupeKey: dedupe.key }),
  });
  return { record, callerId: id !== undefined, dedupe, due };
}

/** An entry whose id a task of another name holds. */
interface HeldId {
  /** The entry's place in the list. */
  readonly item: number;
  readonly id: string;
  readonly heldBy: string;
}

/**
 * An id held by a task of the same name is that task added already: ignored,
 * whatever its arguments (an id is often a "once" guard whose arguments carry
 * a time). Held by a task of another name — two producers' ids clashing, or
 * an id taken ahead of the code that uses it — it is refused, so the caller
 * does not take someone else's task for its own: one error for every such
 * entry, the first named in full, the others after it.
 */
function otherHolderConflict(
  held: readonly HeldId[],
  at: (item: number) => string,
  note: string,
): TaskIdConflictError {
  const [first, ...others] = held as [HeldId, ...HeldId[]];
  const alsoHeld =
    others.length === 0
      ? ""
      : `; so are the ids of ${others.map((other) => `item [${other.item}] ('${other.id}', by '${other.heldBy}')`).join(", ")}`;
  return new TaskIdConflictError(
    `${at(first.item)}: id '${first.id}' is held by a task of another name ('${first.heldBy}'), so this is not a resend of it; choose another id${alsoHeld}${note}`,
    first.id,
    first.heldBy,
    held.map(({ id, heldBy }) => ({ id, heldBy })),
  );
}

/** The places of `entries` in runs of consecutive entries alike: all under a key, or none. */
function runsOf(entries: readonly CheckedEntry[]): number[][] {
  const runs: number[][] = [];
  entries.forEach((entry, i) => {
    const last = runs.at(-1);
    if (last && Boolean(entries[last[0]!]!.dedupe) === Boolean(entry.dedupe)) last.push(i);
    else runs.push([i]);
  });
  return runs;
}

/** What the entries of one list add did, with the records as stored (trace context included). */
export interface EntriesAdded {
  readonly results: AddResult[];
  readonly records: readonly TaskData[];
  /** The due time of each entry that added or replaced a scheduled task. */
  readonly scheduled: readonly number[];
  /**
   * The first entry whose id a task of another name holds: the caller throws
   * it once the rest is accounted for (the other entries are stored).
   */
  readonly conflict: TaskIdConflictError | undefined;
}

/**
 * The entries of `list` (each item an {@link AddEntry}) checked, with the
 * records they store; `options` give what an entry leaves out. Throws a
 * one-line error naming the first bad entry, before anything is stored.
 */
export function checkEntries(
  queue: QueueHandle,
  list: readonly unknown[],
  options: PlainEnqueueOptions | undefined,
  where: string,
): CheckedEntry[] {
  const now = queue.clock.now();
  const defaults = {
    priority: priorityOf(options, where),
    concurrency: concurrencyOf(options, where),
  };
  return list.map((item, index) => checkEntry(queue, item, index, defaults, now, where));
}

/**
 * Adds the checked `entries` to `queue`. An id held by a task of another
 * name is returned as a `TaskIdConflictError` for the caller to throw: the
 * list's other entries are stored by then (each is safe to send again, under
 * its id or key).
 */
/**
 * Refuses, before anything is stored, the dedupe keys an add within the
 * application's transaction cannot take: any, on a backend whose key
 * decision cannot join that transaction; a `replace`, which would lock the
 * task it replaces until the transaction ends, on one whose can.
 */
function refuseKeysWithin(
  backend: Backend,
  entries: readonly CheckedEntry[],
  at: (i: number) => string,
  single: boolean,
): void {
  const keyed = entries.findIndex((entry) => entry.dedupe);
  if (keyed < 0) return;
  if (!backend.capabilities.dedupeInTransactions) {
    throw new InvalidOptionError(
      `${at(keyed)}: dedupe cannot be combined with tx on this backend; add ${single ? "it" : "the entries with dedupe"} without tx`,
    );
  }
  const replacing = entries.findIndex((entry) => entry.dedupe?.mode === "replace");
  if (replacing >= 0) {
    throw new InvalidOptionError(
      `${at(replacing)}: dedupe mode 'replace' cannot be combined with tx (the task it replaces would stay locked until your transaction ends); use mode 'ignore' within tx, or add it without tx`,
    );
  }
}

export async function addEntries(
  queue: QueueHandle,
  backend: Backend,
  entries: readonly CheckedEntry[],
  tx: SqlTransaction | undefined,
  where: string,
  /** One task's add (`queue.add(task, { id, dedupe })`): its messages name no item. */
  single = false,
): Promise<EntriesAdded> {
  const at = (i: number) => (single ? where : `${where}: item [${i}]`);
  if (tx) refuseKeysWithin(backend, entries, at, single);
  const othersNote = single
    ? ""
    : tx
      ? " (the list's other entries were added within your transaction: they are stored if it commits)"
      : " (the list's other entries were stored)";
  const now = queue.clock.now();
  return publishTraced(
    queue.name,
    entries.map((entry) => entry.record),
    async (records) => {
      const results: AddResult[] = new Array(entries.length);
      const heldIds: HeldId[] = [];
      const storePlain = async (indices: readonly number[]) => {
        const some = indices.map((i) => records[i]!);
        const store = (these: readonly TaskData[]) =>
          backend.add(queue.name, these, "unique", addOptionsFor(backend, these, now, tx));
        let held: ReadonlyMap<string, TaskData> = new Map();
        const added = await addAgainIfExpired(
          backend,
          queue.name,
          now,
          some,
          await store(some),
          store,
          (holders) => {
            held = holders;
          },
        );
        indices.forEach((i, k) => {
          const record = records[i]!;
          results[i] = { outcome: added[k] ? "added" : "ignored", id: record.id };
          const holder = held.get(record.id);
          if (!added[k] && entries[i]!.callerId && holder && holder.name !== record.name) {
            heldIds.push({ item: i, id: record.id, heldBy: holder.name });
          }
        });
      };
      const storeKeyed = async (indices: readonly number[]) => {
        const deduplicated: DedupeEntry[] = indices.map((i) => {
          const record = records[i]!;
          const { key, mode, windowMs } = entries[i]!.dedupe!;
          const event = addedEventFor(backend, record, now);
          return { record, key, mode, windowMs, ...(event ? { event } : {}) };
        });
        const answered = await backend.addDeduplicated(
          queue.name,
          deduplicated,
          now,
          tx ? { tx } : undefined,
        );
        indices.forEach((i, k) => {
          const result = answered[k];
          if (!result) {
            throw new BackendError(`${at(i)}: the backend answered nothing for the task`);
          }
          results[i] = { outcome: result.outcome, id: result.id };
        });
      };
      // One call per run of entries alike (keyed or not), in the list's order, so each entry sees
      // those before it as it would added alone; a list of one kind is one call.
      for (const run of runsOf(entries)) {
        await (entries[run[0]!]!.dedupe ? storeKeyed(run) : storePlain(run));
      }
      const scheduled = entries.flatMap((entry, i) =>
        entry.due !== undefined && results[i]!.outcome !== "ignored" ? [entry.due] : [],
      );
      const conflict =
        heldIds.length > 0 ? otherHolderConflict(heldIds, at, othersNote) : undefined;
      return { results, records, scheduled, conflict };
    },
  );
}
