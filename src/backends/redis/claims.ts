/**
 * @module backends/redis/claims
 * Claims are leases. `pop` claims pending tasks for this consumer, blocking
 * on the queue's wake list (on a connection of its own) while there is
 * nothing to claim; `heartbeat` renews the leases a worker still holds;
 * `acknowledge` releases them; `reclaimStale` takes over leases left to
 * expire by a worker that died.
 */
import { type Clock, isoAt } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { QueueKeys } from "./keys.js";
import { readRecordRows } from "./record-codec.js";
import type { RedisSession } from "./session.js";
import type { TaskStore } from "./task-store.js";

/** Stale leases taken over per call. */
const RECLAIM_BATCH = 100;

export class Claims {
  constructor(
    private readonly session: RedisSession,
    private readonly clock: Clock,
    private readonly consumerId: string,
    private readonly store: TaskStore,
  ) {}

  /** Claims up to `limit` pending tasks, waiting up to `timeoutMs` for one to arrive. */
  async pop(queue: string, limit: number, timeoutMs: number): Promise<TaskData[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`pop limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const k = this.session.keys(queue);
    const claimed = await this.#claim(queue, k, limit);
    if (claimed.length > 0 || timeoutMs <= 0) return claimed;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !this.session.isConnected) return [];
      let woke: unknown;
      try {
        woke = await this.session.connections.withBlocking((client) =>
          client.blpop(k.wake, Math.max(0.01, remaining / 1000)),
        );
      } catch (error) {
        // disconnect() closes the blocking connection under us: the wait simply ends.
        if (!this.session.isConnected) return [];
        throw error;
      }
      if (!this.session.isConnected) return [];
      const next = await this.#claim(queue, k, limit);
      if (next.length > 0 || woke === null) return next;
    }
  }

  async #claim(queue: string, k: QueueKeys, limit: number): Promise<TaskData[]> {
    const startedAt = isoAt(this.clock.now());
    const flat = await this.session.idempotent(
      "claim",
      [k.pending, k.processing, k.wake, this.session.requestKey(k)],
      [k.task, limit, startedAt, this.consumerId],
    );
    return this.store.readReply(flat, queue, { status: "processing", startedAt });
  }

  /** Releases the leases on `ids` (their outcomes are stored). */
  async acknowledge(queue: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const k = this.session.keys(queue);
    const multi = this.session.client.multi().zrem(k.processing, ...ids);
    for (const id of ids) multi.hdel(`${k.task}${id}`, "owner");
    await multi.exec();
  }

  /** Renews this consumer's leases on `ids`; returns the ids whose lease it no longer holds. */
  async heartbeat(queue: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const k = this.session.keys(queue);
    return (await this.session.script(
      "heartbeat",
      [k.processing],
      [k.task, this.consumerId, ...ids],
    )) as string[];
  }

  /** Takes over tasks whose lease was not renewed for `idleMs`: this consumer becomes their owner. */
  async reclaimStale(queue: string, idleMs: number): Promise<TaskData[]> {
    const k = this.session.keys(queue);
    const flat = (await this.session.script(
      "reclaim",
      [k.processing],
      [k.task, Math.max(0, Math.floor(idleMs)), this.consumerId, RECLAIM_BATCH],
    )) as string[];
    return readRecordRows(flat, this.clock.now());
  }
}
