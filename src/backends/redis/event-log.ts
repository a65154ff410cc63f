/**
 * @module backends/redis/event-log
 * A queue's lifecycle event log on Redis: one stream per queue (`{p:q}:events`,
 * in the queue's hash slot), one entry per event with its body in field `b`.
 * Writes that store, settle or cancel a record append their events inside
 * their own script (`scripts/lib/events.lua`); `appendEvents` is for events
 * no write carries (`started`, `progress`). A script that appends trims the
 * stream to exactly `eventCap` entries before it returns, so no reader ever
 * finds more. Positions are the stream's entry ids.
 *
 * A read that waits blocks on a connection of the blocking pool (`XREAD
 * BLOCK`), never on the main one, which every other call shares. Each waiting
 * read takes its own pooled connection, as waiting claims do: readers of
 * different queues (or several readers of one) then wait side by side, none
 * holding up another's answer, and an idle one returns to the pool.
 */
import { InvalidOptionError } from "../../errors.js";
import type { EventReadRequest, StoredEvent } from "../backend.js";
import { checkEventLimit } from "../event-positions.js";
import type { RedisSession } from "./session.js";

/** A stream entry id: two unsigned 64-bit integers. */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_U64 = 2n ** 64n - 1n;

/** An `XREAD` reply: per stream, its name and its entries as (id, [field, value, …]). */
type XReadReply = [string, [string, string[]][]][] | null;

function isStreamId(value: string): boolean {
  const match = STREAM_ID.exec(value);
  return match !== null && BigInt(match[1]!) <= MAX_U64 && BigInt(match[2]!) <= MAX_U64;
}

/** The body of an entry: its field `b` (fields are written in pairs, `b` first, but looked up, not assumed). */
function bodyOf(fields: readonly string[]): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "b") return fields[i + 1]!;
  return "";
}

function entriesOf(reply: XReadReply): StoredEvent[] {
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, fields]) => ({ id, body: bodyOf(fields) }));
}

export class RedisEventLog {
  constructor(
    private readonly session: RedisSession,
    readonly eventCap: number,
  ) {}

  async appendEvents(queue: string, bodies: readonly string[]): Promise<void> {
    if (this.eventCap === 0 || bodies.length === 0) return;
    const k = this.session.keys(queue);
    await this.session.script(
      "appendEvents",
      [k.events, this.session.requestKey(k)],
      [this.eventCap, ...bodies],
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
    if (now.length > 0 || waitMs === 0) return now;
    return this.#wait(key, from, limit, waitMs);
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
    return this.session.call("readEvents", async (client) =>
      entriesOf((await client.xread("COUNT", limit, "STREAMS", key, from)) as XReadReply),
    );
  }

  async #wait(key: string, from: string, limit: number, waitMs: number): Promise<StoredEvent[]> {
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
            key,
            from,
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
    return entriesOf(reply);
  }
}
