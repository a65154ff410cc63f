/**
 * @module backends/redis/task-store
 * Writing task records: add, schedule, move due tasks to pending, store
 * attempt outcomes, cancel, delete, clear a queue. Each is one Lua script
 * (or a loop of short ones), so no other worker sees a half-done change.
 * Scripts whose effect is not safe to repeat (append, schedule, cancel) run
 * through `RedisSession.idempotent`: a resend after a lost reply replays.
 */
import { type Clock, isoAt } from "../../clock.js";
import { encodeTaskData } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import type { RetentionDefaults } from "../../task/ttl.js";
import type { QueueKeys } from "./keys.js";
import { readRecord, readRecordPairs, type StoredFields, storeRoute } from "./record-codec.js";
import { expiresArg, retentionArg } from "./retention.js";
import type { RedisSession } from "./session.js";

/** Due tasks moved to pending per script call. */
const SCHEDULER_BATCH = 1000;
/** Records removed per script call while clearing a queue. */
const CLEAR_BATCH = 500;

/** The keys `append.lua` and `clear.lua` both take first, in their order: every place a task id can be. */
function taskIndexKeys(k: QueueKeys): string[] {
  return [k.all, k.pending, k.wake, k.scheduled, k.processing, k.done, k.counts];
}

export class TaskStore {
  constructor(
    private readonly session: RedisSession,
    private readonly clock: Clock,
    private readonly retention: RetentionDefaults,
    /** Whose leases this instance holds: `storeResult` writes only outcomes of claims it still owns. */
    private readonly consumerId: string,
  ) {}

  async append(queue: string, tasks: readonly TaskData[], unique: boolean): Promise<boolean[]> {
    if (tasks.length === 0) return [];
    const k = this.session.keys(queue);
    this.session.register(queue);
    const args: string[] = [k.task, unique ? "1" : "0", this.session.requestToken()];
    for (const task of tasks) args.push(task.id, encodeTaskData(task));
    const added = (await this.session.idempotent(
      "append",
      [...taskIndexKeys(k), k.expires],
      args,
    )) as number[];
    return added.map((flag) => flag === 1);
  }

  async schedule(queue: string, task: TaskData, at: number, unique: boolean): Promise<boolean> {
    const k = this.session.keys(queue);
    this.session.register(queue);
    const added = await this.session.idempotent(
      "schedule",
      [
        k.all,
        k.scheduled,
        k.pending,
        k.processing,
        k.done,
        k.counts,
        this.session.requestKey(k),
        k.expires,
      ],
      [k.task, unique ? "1" : "0", task.id, encodeTaskData(task), at],
    );
    return added === 1;
  }

  /** Moves every task due by `now` to pending; returns the moved records. */
  async popScheduled(queue: string, now: number): Promise<TaskData[]> {
    const k = this.session.keys(queue);
    const moved: TaskData[] = [];
    for (;;) {
      const flat = await this.session.script(
        "popScheduled",
        [k.scheduled, k.pending, k.wake],
        [k.task, now, SCHEDULER_BATCH],
      );
      const batch = await this.readReply(flat, queue, { status: "pending" });
      moved.push(...batch);
      if ((flat as unknown[]).length < SCHEDULER_BATCH * 2) return moved;
    }
  }

  async storeResult(queue: string, tasks: readonly TaskData[]): Promise<string[]> {
    if (tasks.length === 0) return [];
    const k = this.session.keys(queue);
    const now = this.clock.now();
    const args: (string | number)[] = [k.task, now, k.finishedChannel, this.consumerId];
    for (const task of tasks) {
      const [kind, extra] = storeRoute(task);
      // The retention clock starts now, when the finished record is stored.
      const expires = kind === "done" ? expiresArg(task, this.retention, now) : "";
      args.push(task.id, encodeTaskData(task), kind, extra, expires);
    }
    return (await this.session.script(
      "storeResult",
      [k.pending, k.wake, k.scheduled, k.processing, k.done, k.counts, k.expires, k.all],
      args,
    )) as string[];
  }

  /**
   * Decodes an `[id, json, …]` script reply, overriding `fields` on each
   * record. Malformed records are stored as failed and left out.
   */
  async readReply(flat: unknown, queue: string, fields: StoredFields): Promise<TaskData[]> {
    const { records, malformed } = readRecordPairs(flat as string[], fields, this.clock.now());
    if (malformed.length > 0) await this.storeResult(queue, malformed);
    return records;
  }

  async cancel(queue: string, id: string): Promise<TaskData | null> {
    const k = this.session.keys(queue);
    const now = this.clock.now();
    const row = (await this.session.idempotent(
      "cancel",
      [
        k.pending,
        k.scheduled,
        k.processing,
        k.done,
        k.counts,
        this.session.requestKey(k),
        k.expires,
      ],
      [
        k.task,
        id,
        isoAt(now),
        k.finishedChannel,
        now,
        retentionArg(this.retention.errorTtl),
        retentionArg(this.retention.ttl),
      ],
    )) as (string | null)[] | null;
    if (!row) return null;
    const [json, status, startedAt, finishedAt] = row;
    return readRecord(id, json ?? "", { status, startedAt, finishedAt }, this.clock.now()).record;
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    const k = this.session.keys(queue);
    return (
      (await this.session.script(
        "deleteTask",
        [k.all, k.done, k.counts, k.expires],
        [k.task, id, this.clock.now()],
      )) === 1
    );
  }

  /** Removes every record of the queue (crons and rate limits too, workflows kept); returns how many. */
  async clear(queue: string): Promise<number> {
    const k = this.session.keys(queue);
    let removed = 0;
    for (;;) {
      const [count, finished] = (await this.session.script(
        "clear",
        [...taskIndexKeys(k), k.crons, k.rateLimitKeys, k.expires],
        [k.task, CLEAR_BATCH],
      )) as [number, number];
      removed += count;
      if (finished === 1) return removed;
    }
  }
}
