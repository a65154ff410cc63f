/**
 * @module backends/redis/claims
 * Claims are leases with fences. `claim` takes claimable tasks, blocking on
 * the queue's wake list (on a connection of its own) while there is nothing
 * to claim; `renew` extends the leases a worker still holds; `reclaimExpired`
 * takes over leases left to expire, once confirmed (see `reclaim.lua`).
 */
import { isoAt } from "../../clock.js";
import { BackendUnavailableError, InvalidOptionError } from "../../errors.js";
import { encodeTaskData } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import type { ClaimedTask, ClaimRef } from "../backend.js";
import type { QueueKeys } from "./keys.js";
import { readClaims, readReclaims } from "./record-codec.js";
import { classify, type RedisSession, UnconfirmedWrite } from "./session.js";

/** Expired leases looked at per call. */
const RECLAIM_BATCH = 100;
/**
 * Unanswered claims remembered per queue: one per dropped connection between
 * two claims that got their answer, so a handful at most; beyond that, the
 * oldest is left to its lease.
 */
const MAX_UNANSWERED = 16;

export class Claims {
  /** Per queue (by its pending key): request tokens of claims whose answer never came. */
  readonly #unanswered = new Map<string, string[]>();

  constructor(
    private readonly session: RedisSession,
    private readonly now: () => number,
  ) {}

  /** Claims up to `limit` claimable tasks, waiting up to `waitMs` for one to arrive. */
  async claim(queue: string, limit: number, waitMs: number): Promise<ClaimedTask[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`claim limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const k = this.session.keys(queue);
    const claimed = await this.#claim(k, limit);
    if (claimed.length > 0 || waitMs <= 0) return claimed;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !this.session.isConnected) return [];
      let woke: unknown;
      try {
        woke = await this.session.connections.withBlocking(
          (client) => client.blpop(k.wake, Math.max(0.01, remaining / 1000)),
          remaining,
        );
      } catch (error) {
        // disconnect() closes the blocking connection under us: the wait simply ends.
        if (!this.session.isConnected) return [];
        throw new BackendUnavailableError(
          `claim: waiting for tasks failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (!this.session.isConnected) return [];
      const next = await this.#claim(k, limit);
      if (next.length > 0 || woke === null) return next;
    }
  }

  async #claim(k: QueueKeys, limit: number): Promise<ClaimedTask[]> {
    const now = this.now();
    const startedAt = isoAt(now);
    // A claim that failed for want of Redis may have claimed tasks all the same (its answer
    // lost): the next claim names it, and the script puts those tasks back first (claim.lua).
    const unanswered = this.#unanswered.get(k.pending) ?? [];
    const token = this.session.requestToken();
    let flat: string[];
    try {
      flat = (await this.session.script(
        "claim",
        [k.pending, k.processing, k.wake, k.paused, k.concurrencyCap],
        [k.task, limit, startedAt, token, ...unanswered],
      )) as string[];
    } catch (error) {
      // Only a call that was on its way when the connection failed, or one applied but not
      // confirmed by the replicas asked for, can have claimed anything.
      if (
        error instanceof BackendUnavailableError &&
        (classify(error.cause) === "dropped" || error.cause instanceof UnconfirmedWrite)
      )
        this.#unanswered.set(k.pending, [...unanswered, token].slice(-MAX_UNANSWERED));
      throw error;
    }
    this.#unanswered.delete(k.pending);
    return readClaims(flat, startedAt, now);
  }

  /** Pauses or resumes the queue's claims (see `pause.lua`). */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    const k = this.session.keys(queue);
    await this.session.script("pause", [k.paused, k.pending, k.wake], [paused ? "1" : "0"]);
  }

  /** Sets or lifts the queue's concurrency cap (see `concurrency-cap.lua`). */
  async setConcurrencyLimit(queue: string, limit: number | null): Promise<void> {
    const k = this.session.keys(queue);
    await this.session.script(
      "concurrencyCap",
      [k.concurrencyCap, k.pending, k.wake],
      [limit === null ? "" : String(limit)],
    );
  }

  async getConcurrencyLimit(queue: string): Promise<number | null> {
    const cap = this.session.keys(queue).concurrencyCap;
    const stored = await this.session.call("getConcurrencyLimit", (client) => client.get(cap));
    const limit = stored === null ? Number.NaN : Number(stored);
    return Number.isInteger(limit) && limit >= 1 ? limit : null;
  }

  async isPaused(queue: string): Promise<boolean> {
    const paused = this.session.keys(queue).paused;
    return (await this.session.call("isPaused", (client) => client.exists(paused))) === 1;
  }

  /** Renews the leases of `claims`; returns the ids whose claim is no longer current (and not settled by its holder). */
  async renew(queue: string, claims: readonly ClaimRef[]): Promise<string[]> {
    if (claims.length === 0) return [];
    const k = this.session.keys(queue);
    const args: (string | number)[] = [k.task];
    for (const { id, fence } of claims) args.push(id, fence);
    return (await this.session.script("renew", [k.processing], args)) as string[];
  }

  /** Stores a running task's record while its claim is current (see `save-progress.lua`). */
  async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    const k = this.session.keys(queue);
    const written = await this.session.script(
      "saveProgress",
      [k.processing],
      [k.task, claim.id, claim.fence, encodeTaskData(record)],
    );
    return written === 1;
  }

  /** Takes over leases expired for `leaseMs` and confirmed so for `confirmMs` (see `reclaim.lua`). */
  async reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]> {
    const k = this.session.keys(queue);
    const flat = (await this.session.script(
      "reclaim",
      [k.processing, k.suspects],
      [
        k.task,
        Math.max(0, Math.floor(window.leaseMs)),
        Math.max(0, Math.floor(window.confirmMs)),
        RECLAIM_BATCH,
      ],
    )) as string[];
    return readReclaims(flat, this.now());
  }
}
