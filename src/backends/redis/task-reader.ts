/**
 * @module backends/redis/task-reader
 * Reading records and counts without changing anything: records by id (one
 * pipelined HMGET each), pending and scheduled tasks in queue order, the
 * queue newest first (`list-tasks.lua` picks the ids, then they are read as
 * by id), per-queue stats and the list of queues. A record whose expiry has
 * passed is gone for readers even before `pruneExpired` runs.
 */
import { InvalidOptionError } from "../../errors.js";
import { malformedRecord } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import type { ListTasksRequest, PageRequest, QueueStats, TaskPage } from "../backend.js";
import { checkListRequest, encodeListCursor } from "../task-listing.js";
import type { RedisClient } from "./connections.js";
import { queuesRegistryKey } from "./keys.js";
import { RECORD_FIELDS, readRecord } from "./record-codec.js";
import { perQueue, type RedisSession, runBatch } from "./session.js";

/** What a read of a task's key gives when the key holds another kind of value than a hash. */
const NOT_A_HASH = Symbol("not a hash");
type NotAHash = typeof NOT_A_HASH;

/** {@link NOT_A_HASH} for Redis's refusal of a hash command on a key of another type; any other error is thrown on. */
function notAHash(error: unknown): NotAHash {
  if (error instanceof Error && error.message.startsWith("WRONGTYPE")) return NOT_A_HASH;
  throw error;
}

export class TaskReader {
  constructor(
    private readonly session: RedisSession,
    private readonly now: () => number,
    /** Deletes a queue's expired records (stats count only live ones). */
    private readonly prune: (queue: string) => Promise<number>,
  ) {}

  /** The live records among `ids` (missing and expired ones are left out). */
  async getTasks(queue: string, ids: readonly string[]): Promise<Map<string, TaskData>> {
    const k = this.session.keys(queue);
    const unique = [...new Set(ids)];
    const rows = await this.session.call("getTasks", async (client) =>
      // One record (getTask, a wait for one task) is one command: a pipeline object costs more than it saves.
      unique.length === 1
        ? [await client.hmget(`${k.task}${unique[0]}`, ...RECORD_FIELDS).catch(notAHash)]
        : runBatch<(string | null)[] | NotAHash>(
            client,
            (p) => {
              for (const id of unique) p.hmget(`${k.task}${id}`, ...RECORD_FIELDS);
            },
            notAHash,
          ),
    );
    const found = new Map<string, TaskData>();
    const now = this.now();
    unique.forEach((id, i) => {
      const row = rows[i]!;
      const where = `task record ${id} in Redis`;
      if (!Array.isArray(row)) {
        found.set(
          id,
          malformedRecord(
            id,
            "",
            `malformed ${where}: its key holds no hash (changed by hand?)`,
            now,
          ),
        );
        return;
      }
      const [json, status, startedAt, finishedAt, expires] = row;
      // An expired record not yet pruned is already gone for readers.
      if (expires && Number(expires) <= now) return;
      if (!json) {
        // No hash at all: no such task. A hash without its record was damaged by hand: shown, as failed.
        if (status || startedAt || finishedAt || expires)
          found.set(
            id,
            malformedRecord(id, "", `malformed ${where}: its hash has no field 'd'`, now),
          );
        return;
      }
      found.set(id, readRecord(id, json, { status, startedAt, finishedAt }, now));
    });
    return found;
  }

  async getPending(queue: string, count: number): Promise<TaskData[]> {
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidOptionError(
        `getPending count must be an integer ≥ 1 (got ${String(count)})`,
      );
    }
    const pending = this.session.keys(queue).pending;
    const ids = (await this.session.script("claimable", [pending], ["range", count])) as string[];
    return this.#inOrder(queue, ids);
  }

  /** Waiting records, earliest first; the cursor is a rank in the queue's due-time index. */
  async getScheduled(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    const offset = page.cursor ? Number(page.cursor) : 0;
    const limit = page.limit ?? 1000;
    if (!Number.isInteger(offset) || offset < 0)
      throw new InvalidOptionError(`invalid page cursor '${page.cursor}'`);
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
    const scheduled = this.session.keys(queue).scheduled;
    const ids = await this.session.call("getScheduled", (client) =>
      client.zrange(scheduled, offset, offset + limit - 1),
    );
    const tasks = await this.#inOrder(queue, ids);
    return { tasks, cursor: ids.length < limit ? null : String(offset + limit) };
  }

  /** The records of `ids` in that order (missing ones left out). */
  async #inOrder(queue: string, ids: readonly string[]): Promise<TaskData[]> {
    const found = await this.getTasks(queue, ids);
    return ids.flatMap((id) => {
      const record = found.get(id);
      return record ? [record] : [];
    });
  }

  /** Claimable tasks, in every priority's list (see `scripts/lib/claimable.lua`). */
  async size(queue: string): Promise<number> {
    const pending = this.session.keys(queue).pending;
    return (await this.session.script("claimable", [pending], ["count"])) as number;
  }

  /** Every record, a page at a time: the newest-first listing without a filter (no record is on two pages). */
  async getAllTasks(queue: string, page: PageRequest = {}): Promise<TaskPage> {
    const limit = page.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
    return this.listTasks(queue, { cursor: page.cursor, limit });
  }

  async listTasks(queue: string, request?: ListTasksRequest): Promise<TaskPage> {
    const { after, limit, statuses, budget } = checkListRequest(request);
    if (statuses?.size === 0) return { tasks: [], cursor: null };
    const k = this.session.keys(queue);
    const [nextAt, nextId, ...ids] = (await this.session.script(
      "listTasks",
      [k.ids, k.done],
      [
        k.task,
        this.now(),
        limit,
        budget,
        after ? after.at : "",
        after ? after.id : "",
        ...(statuses ?? []),
      ],
    )) as string[];
    const found = await this.getTasks(queue, ids);
    // A record that changed status since the script picked it no longer matches: left out.
    const tasks = ids.flatMap((id) => {
      const record = found.get(id);
      return record && (!statuses || statuses.has(record.status)) ? [record] : [];
    });
    const cursor = nextAt ? encodeListCursor({ at: Number(nextAt), id: nextId! }) : null;
    return { tasks, cursor };
  }

  async getStats(queue: string): Promise<QueueStats> {
    const k = this.session.keys(queue);
    // Counts include expired records until they are pruned: prune first, so stats are exact.
    await this.prune(queue);
    const [[scheduled, processing, counts, held], claimable] = await Promise.all([
      this.session.call(
        "getStats",
        (client) =>
          runBatch<unknown>(client, (p) =>
            p
              .zcard(k.scheduled)
              .zcard(k.processing)
              .hgetall(k.counts)
              // Tasks held for their concurrency key's slot (scripts/lib/slots.lua) wait to be claimed too.
              .get(`${k.pending}:heldn`),
          ) as Promise<[number, number, Record<string, string>, string | null]>,
      ),
      this.size(queue),
    ]);
    const count = (status: string) => Number(counts[status] ?? 0);
    const waitingForSlots = Math.max(0, Number(held ?? 0) || 0);
    return {
      pending: claimable + waitingForSlots,
      scheduled,
      processing,
      completed: count("completed"),
      failed: count("failed"),
      crashed: count("crashed"),
      cancelled: count("cancelled"),
      held: waitingForSlots,
    };
  }

  /** Queues that hold records, by name, with their pending counts. */
  async listQueues(): Promise<Map<string, number>> {
    const registry = queuesRegistryKey(this.session.prefix);
    const names = (
      await this.session.call("listQueues", (client) => client.smembers(registry))
    ).sort();
    const held = await this.session.call("listQueues", (client) =>
      perQueue(names, (name) => client.zcard(this.session.keys(name).ids)),
    );
    const queues = new Map<string, number>();
    const kept = names.filter((_, i) => held[i]! > 0);
    const sizes = await Promise.all(kept.map((name) => this.size(name)));
    kept.forEach((name, i) => {
      queues.set(name, sizes[i]!);
    });
    return queues;
  }

  /** The registered queues that are paused, sorted (pausing registers a queue). */
  listPaused(): Promise<string[]> {
    return this.#registeredWhere("listPaused", (client, name) =>
      client.exists(this.session.keys(name).paused),
    );
  }

  /** The registered queues that hold crons, sorted (adding a cron registers its queue). */
  listCronQueues(): Promise<string[]> {
    return this.#registeredWhere("listCronQueues", (client, name) =>
      client.hlen(this.session.keys(name).crons),
    );
  }

  /** The registered queue names for which `count` (one command each) answers more than 0. */
  async #registeredWhere(
    what: string,
    count: (client: RedisClient, name: string) => Promise<number>,
  ): Promise<string[]> {
    const registry = queuesRegistryKey(this.session.prefix);
    const names = (await this.session.call(what, (client) => client.smembers(registry))).sort();
    const counts = await this.session.call(what, (client) =>
      perQueue(names, (name) => count(client, name)),
    );
    return names.filter((_, i) => counts[i]! > 0);
  }
}
