/**
 * @module backends/redis/event-log
 * A queue's lifecycle event log on Redis: one stream per queue (`{p:q}:events`,
 * in the queue's hash slot), one entry per write that appends, holding its
 * bodies in fields `b`, and one position per event (an entry's id is its
 * last event's; see `scripts/lib/events.lua` for the numbering and the cap).
 * Writes that store, settle or cancel a record append their events inside
 * their own script; `appendEvents` is for events no write carries
 * (`started`, `progress`). A script that appends keeps the log to
 * `eventCap` events before it returns, so no reader ever finds more.
 *
 * A read that waits blocks on a connection of the blocking pool (`XREAD
 * BLOCK`), never on the main one, which every other call shares. Each waiting
 * read takes its own pooled connection, as waiting claims do: readers of
 * different queues (or several readers of one) then wait side by side, none
 * holding up another's answer, and an idle one returns to the pool.
 */
import { InvalidOptionError } from "../../errors.js";
import type { ClaimRef, EventReadRequest, StoredEvent } from "../backend.js";
import { checkEventLimit, positionAheadError } from "../event-positions.js";
import { checkHolders } from "../held-events.js";
import type { RedisClient } from "./connections.js";
import type { RedisSession } from "./session.js";
import { waitStop } from "./wait-stop.js";

/** A stream entry id: two unsigned 64-bit integers. */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_U64 = 2n ** 64n - 1n;

/** An `XREAD` reply: per stream, its name and its entries as (id, [field, value, …]). */
type XReadReply = [string, [string, string[]][]][] | null;

function isStreamId(value: string): boolean {
  const match = STREAM_ID.exec(value);
  return match !== null && BigInt(match[1]!) <= MAX_U64 && BigInt(match[2]!) <= MAX_U64;
}

/** A position as a comparable pair. */
function positionOf(id: string): [bigint, bigint] {
  const match = STREAM_ID.exec(id);
  return match ? [BigInt(match[1]!), BigInt(match[2]!)] : [0n, 0n];
}

function isAfter(a: readonly [bigint, bigint], b: readonly [bigint, bigint]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

/**
 * The log's numbering hash (`scripts/lib/events.lua`): `m` and `low`, the
 * oldest sequence of it a reader sees; `pm` and `plow`, the same of a
 * numbering left behind.
 */
type Numbering = [string | null, string | null, string | null, string | null];

/** The floors a numbering sets: positions of ms part `m` below `low` were trimmed. */
function floorsOf(numbering: Numbering): { m: bigint; low: bigint }[] {
  const floors: { m: bigint; low: bigint }[] = [];
  for (const [m, low] of [
    [numbering[0], numbering[1]],
    [numbering[2], numbering[3]],
  ] as const) {
    if (m !== null && low !== null) floors.push({ m: BigInt(m), low: BigInt(low) });
  }
  return floors;
}

/**
 * The events of `reply`'s entries after `after`, at most `limit`: an entry's
 * bodies are its `b` fields in order, and its id is the position of the last
 * (the ones before take the sequences just below it). Positions of the log's
 * numbering below its `low` were trimmed, though their entry is kept for the
 * later ones.
 */
function eventsOf(
  reply: XReadReply,
  after: string,
  limit: number,
  numbering: Numbering,
): StoredEvent[] {
  const from = positionOf(after);
  const floors = floorsOf(numbering);
  const events: StoredEvent[] = [];
  for (const [id, fields] of reply?.[0]?.[1] ?? []) {
    const bodies: string[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2)
      if (fields[i] === "b") bodies.push(fields[i + 1]!);
    const [ms, last] = positionOf(id);
    bodies.forEach((body, k) => {
      const position: [bigint, bigint] = [ms, last - BigInt(bodies.length - 1 - k)];
      const trimmed = floors.some((f) => position[0] === f.m && position[1] < f.low);
      if (!trimmed && isAfter(position, from) && events.length < limit) {
        events.push({ id: `${position[0]}-${position[1]}`, body });
      }
    });
    if (events.length >= limit) break;
  }
  return events;
}

export class RedisEventLog {
  constructor(
    private readonly session: RedisSession,
    readonly eventCap: number,
  ) {}

  async appendEvents(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void> {
    checkHolders(bodies, holders);
    if (this.eventCap === 0 || bodies.length === 0) return;
    const k = this.session.keys(queue);
    const args: (string | number)[] = [this.eventCap];
    if (holders === undefined || holders.every((holder) => holder === undefined)) {
      args.push("", ...bodies);
    } else {
      args.push(k.task);
      bodies.forEach((body, i) => {
        const holder = holders[i];
        args.push(holder?.id ?? "", holder?.fence ?? "", body);
      });
    }
    await this.session.script(
      "appendEvents",
      [k.events, this.session.requestKey(k), k.processing],
      args,
    );
  }

  async readEvents(queue: string, request: EventReadRequest): Promise<StoredEvent[]> {
    const { after, limit } = request;
    const waitMs = request.waitMs ?? 0;
    if (after !== null && (typeof after !== "string" || !isStreamId(after))) {
      throw new InvalidOptionError(
        `event log position must be one an event carried (a Redis stream id like "1700000000000-0"), got ${JSON.stringify(after)}`,
      );
    }
    checkEventLimit(limit);
    if (typeof waitMs !== "number" || !Number.isFinite(waitMs) || waitMs < 0) {
      throw new InvalidOptionError(
        `readEvents: waitMs must be a number of milliseconds ≥ 0 (got ${String(waitMs)})`,
      );
    }
    if (this.eventCap === 0) return [];
    const key = this.session.keys(queue).events;
    // XREAD answers the entries strictly after the id; 0-0 precedes every entry.
    const from = after ?? "0-0";
    const now = await this.#read(key, from, limit);
    if (now.length > 0) return now;
    // Nothing after the position: make sure it is not one this log has yet to give.
    if (after !== null) await this.#refuseAhead(key, after);
    if (waitMs === 0) return now;
    if (request.signal?.aborted) return now;
    const stop = waitStop(this.session, key, request.signal, "stream");
    try {
      return await this.#wait(key, from, limit, waitMs, stop.key);
    } finally {
      stop.release();
    }
  }

  /**
   * Refuses `after` when it is past the newest id the stream has given (kept
   * by Redis through trims). With no stream at all (a queue that never
   * appended, or one an earlier version's clear deleted the stream of), the
   * log's first append numbers from the server's clock: only a position
   * ahead of that clock is one the log will not reach.
   */
  async #refuseAhead(key: string, after: string): Promise<void> {
    const newest = await this.session.call("readEvents", async (client) => {
      try {
        const info = (await client.xinfo("STREAM", key)) as unknown[];
        const at = info.indexOf("last-generated-id");
        return at >= 0 ? String(info[at + 1]) : undefined;
      } catch (error) {
        // Anything but a missing stream is not this check's to say.
        if (!/no such key/i.test(String((error as Error)?.message))) return undefined;
        const [seconds = 0, micros = 0] = await client.time();
        return { clockMs: BigInt(seconds) * 1000n + BigInt(micros) / 1000n };
      }
    });
    if (newest === undefined) return;
    const position = positionOf(after);
    if (typeof newest === "string") {
      if (isAfter(position, positionOf(newest))) throw positionAheadError(after, newest);
    } else if (position[0] > newest.clockMs) {
      throw positionAheadError(after, null);
    }
  }

  async lastEventId(queue: string): Promise<string | null> {
    if (this.eventCap === 0) return null;
    const key = this.session.keys(queue).events;
    const newest = await this.session.call("lastEventId", (client) =>
      client.xrevrange(key, "+", "-", "COUNT", 1),
    );
    return newest[0]?.[0] ?? null;
  }

  #read(key: string, from: string, limit: number): Promise<StoredEvent[]> {
    return this.session.call("readEvents", async (client) => {
      const reply = (await client.xread("COUNT", limit, "STREAMS", key, from)) as XReadReply;
      // Read after the entries: a floor raised since only hides what was trimmed meanwhile.
      return eventsOf(reply, from, limit, await this.#numbering(client, key));
    });
  }

  #numbering(client: RedisClient, key: string): Promise<Numbering> {
    return client.hmget(`${key}:at`, "m", "low", "pm", "plow") as Promise<Numbering>;
  }

  async #wait(
    key: string,
    from: string,
    limit: number,
    waitMs: number,
    stopKey: string | undefined,
  ): Promise<StoredEvent[]> {
    this.session.assertConnected();
    let reply: XReadReply;
    try {
      reply = (await this.session.connections.withBlocking(
        // BLOCK 0 would wait forever: the shortest wait is 1 ms.
        (client) =>
          client.xread(
            "COUNT",
            limit,
            "BLOCK",
            Math.max(1, Math.ceil(waitMs)),
            "STREAMS",
            ...(stopKey === undefined ? [key, from] : [key, stopKey, from, "$"]),
          ),
        waitMs,
      )) as XReadReply;
    } catch {
      // disconnect() closes the blocking connections under us: the wait simply ends.
      if (!this.session.isConnected) return [];
      // The waiting connection was lost (a reset, a restart): the read is answered without
      // waiting, through the main connection, which rides out the outage within the backend's
      // bound or fails with BackendUnavailableError; the reader then simply reads again.
      return this.#read(key, from, limit);
    }
    if (!this.session.isConnected) return [];
    // Only the log's own entries: the stop key's mean the wait was aborted.
    reply = reply?.filter(([name]) => name === key) ?? null;
    if (reply === null || reply.length === 0) return [];
    const numbering = await this.session.call("readEvents", (client) =>
      this.#numbering(client, key),
    );
    return eventsOf(reply, from, limit, numbering);
  }
}
