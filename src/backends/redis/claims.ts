/**
 * @module backends/redis/claims
 * Claims are leases with fences. `claim` takes claimable tasks, blocking on
 * the queue's wake list (on a connection of its own) while there is nothing
 * to claim; `renew` extends the leases a worker still holds; `reclaimExpired`
 * takes over leases left to expire, once confirmed (see `reclaim.lua`).
 *
 * An idle worker sends its next claim right behind its wait, on the waiting
 * connection: Redis runs it the moment the wait ends, so a task added to an
 * idle queue is claimed one round trip after the add instead of two. Such a
 * claim is stamped with the server's clock less this process's measured
 * offset from it (it cannot know when it will run). Where that cannot match
 * the backend's clock (a clock of the application's own), where a claim must
 * wait for replicas, and on a cluster, the claim follows the wait's answer.
 */

import { isoAt } from "../../clock.js";
import { BackendUnavailableError, InvalidOptionError, SchemaVersionError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import type { ClaimedTask, ClaimLease, ClaimRef } from "../backend.js";
import { claimLeaseMs } from "../claim-lease.js";
import { reclaimInPasses } from "../reclaim-passes.js";
import type { ClaimedForms } from "./claimed-forms.js";
import type { RedisClient } from "./connections.js";
import type { QueueKeys } from "./keys.js";
import {
  encodeKeyedRecord,
  KEYED_RECORD_VERSION,
  readClaims,
  readReclaims,
} from "./record-codec.js";
import { defineScripts, type ScriptRunner } from "./scripts.js";
import { classify, type RedisSession, UnconfirmedWrite } from "./session.js";
import { waitStop } from "./wait-stop.js";

/** Expired leases noted or taken over per script call (see `reclaim.lua`). */
const RECLAIM_BATCH = 100;
/**
 * Unanswered claims remembered per queue: one per dropped connection between
 * two claims that got their answer, so a handful at most; beyond that, the
 * oldest is left to its lease.
 */
const MAX_UNANSWERED = 16;
/** How long a measured offset between this process's clock and the server's is used. */
const OFFSET_KEPT_MS = 60_000;
/** Round trips an offset is measured over; the shortest gives the tightest bound. */
const OFFSET_SAMPLES = 3;

/** What a wait followed by a claim on the same connection gave. */
interface WakeAndClaim {
  /** Whether the wait ended because something was queued (not by its timeout). */
  readonly woke: boolean;
  /** The claim's tasks; undefined when it gave no usable answer (then claim again as usual). */
  readonly claimed: ClaimedTask[] | undefined;
}

export class Claims {
  /** Per queue (by its pending key): request tokens of claims whose answer never came. */
  readonly #unanswered = new Map<string, string[]>();
  /** The scripts, defined once on each waiting connection. */
  readonly #runners = new WeakMap<RedisClient, ScriptRunner>();
  /** The server's clock less this process's (ms), and when it was measured. */
  #offset: { ms: number; at: number } | undefined;

  constructor(
    private readonly session: RedisSession,
    private readonly now: () => number,
    /** Whether a claim may be sent behind a wait (see the module header). */
    private readonly claimBehindWait: boolean,
    /** What each claim left in its tasks' hashes, for their settles. */
    private readonly forms: ClaimedForms,
  ) {}

  /**
   * Claims up to `limit` claimable tasks, waiting up to `waitMs` for one to
   * arrive, or `signal` to abort (`./wait-stop.ts`).
   */
  async claim(
    queue: string,
    limit: number,
    waitMs: number,
    signal?: AbortSignal,
    leaseMs?: number,
  ): Promise<ClaimedTask[]> {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new InvalidOptionError(`claim limit must be an integer ≥ 1 (got ${String(limit)})`);
    }
    const held = claimLeaseMs(leaseMs);
    const lease = held === null ? "" : String(held);
    const k = this.session.keys(queue);
    try {
      const claimed = await this.#claim(k, limit, lease);
      if (claimed.length > 0 || waitMs <= 0 || signal?.aborted) return claimed;
      const stop = waitStop(this.session, k.wake, signal, "list");
      try {
        return await this.#claimWaiting(k, limit, Date.now() + waitMs, stop.key, signal, lease);
      } finally {
        stop.release();
      }
    } catch (error) {
      throw this.#newerRecords(queue, error, "claim") ?? error;
    }
  }

  /**
   * The refusal, by the claim or reclaim script, of a queue holding records
   * of a newer version (see `claim.lua`), told as such.
   */
  #newerRecords(
    queue: string,
    error: unknown,
    call: "claim" | "reclaim",
  ): SchemaVersionError | undefined {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const version = /^SHEPPY_NEWER_RECORDS (\S+)/.exec(
      cause instanceof Error ? cause.message : "",
    )?.[1];
    if (version === undefined) return undefined;
    const refused =
      call === "claim"
        ? "it takes no tasks from that queue (the ones it holds still finish)"
        : "it takes over none of that queue's claims left to expire: a worker of the newer version does";
    return new SchemaVersionError(
      `${call}: queue '${queue}' at Redis ${this.session.maskedUrl}, prefix '${this.session.prefix}', holds task records of version ${version}, written by a newer Sheppy; this one reads version ${KEYED_RECORD_VERSION} at most, so ${refused}: upgrade sheppy`,
      { cause: error },
    );
  }

  async #claimWaiting(
    k: QueueKeys,
    limit: number,
    deadline: number,
    stopKey: string | undefined,
    signal: AbortSignal | undefined,
    lease: string,
  ): Promise<ClaimedTask[]> {
    const waitOn = stopKey === undefined ? [k.wake] : [k.wake, stopKey];
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !this.session.isConnected || signal?.aborted) return [];
      if (this.claimBehindWait) {
        const offsetMs = await this.#clockOffset();
        const { woke, claimed } = await this.#waitThenClaim(
          k,
          waitOn,
          limit,
          remaining,
          offsetMs,
          lease,
        );
        if (!this.session.isConnected) return claimed ?? [];
        const next = claimed ?? (await this.#claim(k, limit, lease));
        if (next.length > 0 || !woke) return next;
        continue;
      }
      let woke: unknown;
      try {
        woke = await this.session.connections.withBlocking(
          (client) => client.blpop(...waitOn, Math.max(0.01, remaining / 1000)),
          remaining,
          // Not connected by the end of the wait: it ended with nothing; one more look below.
          () => null,
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
      const next = await this.#claim(k, limit, lease);
      if (next.length > 0 || woke === null) return next;
    }
  }

  /**
   * Waits on the queue's wake list with a claim queued right behind the wait
   * on the same connection. A connection that drops (or a claim that does not
   * answer in time, which drops it) may have claimed: its token is kept for
   * the next claim to put those tasks back, as for any claim.
   */
  async #waitThenClaim(
    k: QueueKeys,
    waitOn: readonly string[],
    limit: number,
    remainingMs: number,
    offsetMs: number,
    lease: string,
  ): Promise<WakeAndClaim> {
    const unanswered = this.#unanswered.get(k.pending) ?? [];
    const token = this.session.requestToken();
    const { connections } = this.session;
    const waitThenClaim = async (client: RedisClient): Promise<WakeAndClaim> => {
      let run = this.#runners.get(client);
      if (!run) {
        run = defineScripts(client);
        this.#runners.set(client, run);
      }
      // Both commands in one write to the socket (a system call each would cost more than the claim).
      const socket = "stream" in client ? client.stream : undefined;
      socket?.cork();
      const wait = client.blpop(...waitOn, Math.max(0.01, remainingMs / 1000));
      const claim = run(
        "claim",
        [k.pending, k.processing, k.wake, k.paused, k.concurrencyCap, k.recordsVersion],
        [k.task, limit, "", token, offsetMs, KEYED_RECORD_VERSION, lease, ...unanswered],
      ) as Promise<string[]>;
      socket?.uncork();
      let woke: boolean;
      try {
        woke = (await wait) !== null;
      } catch (error) {
        claim.catch(() => {});
        this.#claimMayHaveRun(k, unanswered, token, error);
        // disconnect() closes the waiting connection under us: the wait simply ends.
        if (!this.session.isConnected) return { woke: false, claimed: [] };
        throw new BackendUnavailableError(
          `claim: waiting for tasks failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      // The claim runs the moment the wait ends: its answer follows at once unless the server stalls.
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          connections.discardBlocking(client);
          reject(new Error("Connection is closed: the claim behind a wait did not answer in time"));
        }, connections.commandTimeoutMs);
      });
      try {
        const flat = await Promise.race([claim, stalled]);
        this.#unanswered.delete(k.pending);
        this.forms.remember(k.task, flat);
        // The claim ran before its answer came: a stamp read later than now is brought back to now.
        return { woke, claimed: readClaims(flat, this.now(), true) };
      } catch (error) {
        claim.catch(() => {});
        this.#claimMayHaveRun(k, unanswered, token, error);
        // Claimed again at once through the main connection, which retries and reports as every call does.
        return { woke, claimed: undefined };
      } finally {
        clearTimeout(timer);
      }
    };
    return connections.withBlocking(
      waitThenClaim,
      remainingMs,
      // Not connected by the end of the wait: it ended with nothing; the caller looks once more.
      () => ({ woke: false, claimed: undefined }),
    );
  }

  /** Keeps `token` for the next claim when a failed claim may have been applied all the same. */
  #claimMayHaveRun(k: QueueKeys, unanswered: string[], token: string, error: unknown): void {
    if (classify(error) === "dropped")
      this.#unanswered.set(k.pending, [...unanswered, token].slice(-MAX_UNANSWERED));
  }

  /**
   * The server's clock less this process's, in ms, as a lower bound: measured
   * by `TIME`, again each minute. The server read its clock somewhere in the
   * round trip; the smallest offset that allows (the read at the very end,
   * each clock's millisecond rounded against it) is used, not the middle, so a
   * start stamped from the server's clock never reads earlier than this
   * process's clock at that moment — never before the time a task was due at,
   * by the clock that made it due. It may read up to the round trip (plus
   * 3 ms) late, so the shortest of a few round trips is kept, and a stamp
   * later than the claim's answer is brought back to it (see `readClaims`).
   */
  async #clockOffset(): Promise<number> {
    const now = this.now();
    if (this.#offset && now - this.#offset.at < OFFSET_KEPT_MS) return this.#offset.ms;
    let best: { ms: number; roundTrip: number; at: number } | undefined;
    for (let sample = 0; sample < OFFSET_SAMPLES; sample++) {
      const sent = this.now();
      const [seconds, micros] = await this.session.call("time", (client) => client.time());
      const received = this.now();
      const serverMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const roundTrip = received - sent;
      if (!best || roundTrip < best.roundTrip)
        best = { ms: serverMs - received - 2, roundTrip, at: received };
      if (roundTrip === 0) break;
    }
    this.#offset = { ms: best!.ms, at: best!.at };
    return best!.ms;
  }

  async #claim(k: QueueKeys, limit: number, lease: string): Promise<ClaimedTask[]> {
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
        [k.pending, k.processing, k.wake, k.paused, k.concurrencyCap, k.recordsVersion],
        [k.task, limit, startedAt, token, 0, KEYED_RECORD_VERSION, lease, ...unanswered],
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
    this.forms.remember(k.task, flat);
    return readClaims(flat, now);
  }

  /** Pauses or resumes the queue's claims (see `pause.lua`). */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    const k = this.session.keys(queue);
    await this.session.script(
      "pause",
      [k.paused, k.pending, k.wake],
      [paused ? "1" : "0"],
      paused ? "pause" : "resume",
    );
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

  /** The claims held now on those of `ids` that are claimed (see `claim-leases.lua`). */
  async claimLeases(queue: string, ids: readonly string[]): Promise<Map<string, ClaimLease>> {
    const leases = new Map<string, ClaimLease>();
    if (ids.length === 0) return leases;
    const k = this.session.keys(queue);
    const flat = (await this.session.script(
      "claimLeases",
      [k.processing],
      [k.task, ...new Set(ids)],
    )) as string[];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      leases.set(flat[i]!, {
        renewedAgoMs: Number(flat[i + 1]),
        leaseMs: flat[i + 2] === "" ? null : Number(flat[i + 2]),
      });
    }
    return leases;
  }

  /** Stores a running task's record while its claim is current (see `save-progress.lua`). */
  async saveProgress(queue: string, claim: ClaimRef, record: TaskData): Promise<boolean> {
    const k = this.session.keys(queue);
    // Written before the settle: the settle must write the whole record again.
    this.forms.forget(k.task, claim.id);
    const written = await this.session.script(
      "saveProgress",
      [k.processing],
      [k.task, claim.id, claim.fence, encodeKeyedRecord(record)],
    );
    return written === 1;
  }

  /** Takes over leases expired for `leaseMs` and confirmed so for `confirmMs` (see `reclaim.lua`). */
  async reclaimExpired(
    queue: string,
    window: { leaseMs: number; confirmMs: number },
  ): Promise<ClaimedTask[]> {
    const k = this.session.keys(queue);
    return reclaimInPasses(async () => {
      const [full, ...flat] = (await this.session
        .script(
          "reclaim",
          [k.processing, k.suspects, k.recordsVersion],
          [
            k.task,
            Math.max(0, Math.floor(window.leaseMs)),
            Math.max(0, Math.floor(window.confirmMs)),
            RECLAIM_BATCH,
            KEYED_RECORD_VERSION,
          ],
        )
        .catch((error: unknown) => {
          throw this.#newerRecords(queue, error, "reclaim") ?? error;
        })) as string[];
      return { taken: readReclaims(flat, this.now()), full: full === "1" };
    });
  }
}
