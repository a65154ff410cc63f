/**
 * @module backends/sqlite/event-log
 * Each queue's lifecycle event log (migration 007): rows of `events`.
 * Appends run inside the write transaction of the add, settle or cancel
 * they describe (or one of their own), and the file has one writer at a
 * time, so ids grow in commit order; the same transaction trims the queue
 * to the cap, deleting just the excess its row count (`event_counts`)
 * shows. A waiting read wakes at once on an append from this process, and
 * on the next change check for other processes' (`./signals.ts`).
 */
import type { ClaimRef, EventReadRequest, StoredEvent } from "../backend.js";
import { positionAheadError } from "../event-positions.js";
import { bodiesOfCurrentHolders, checkHolders } from "../held-events.js";
import { checkedRead, readEventsWaiting } from "../sql/event-log.js";
import { CLAIMED } from "../sql/stored-columns.js";
import type { SqliteDatabase } from "./database.js";
import type { Signals } from "./signals.js";

/** Longest sleep of a waiting read between looks, whatever the signals say. */
const FALLBACK_POLL_MS = 1000;

const APPEND = "INSERT INTO events (queue, body) VALUES (?, ?)";

/** Whether a claim is still the task's current one (see `appendEvents`'s holders). */
const HELD = `SELECT 1 FROM tasks WHERE queue = ? AND id = ? AND state = ${CLAIMED} AND fence = ?`;

/** The queue's row count after adding `?` rows. */
const COUNT = `
INSERT INTO event_counts (queue, n) VALUES (?, ?)
ON CONFLICT (queue) DO UPDATE SET n = n + excluded.n
RETURNING n`;

/** The queue's `?` oldest rows (found along the index from its oldest end). */
const TRIM = `
DELETE FROM events WHERE id IN (SELECT id FROM events WHERE queue = ? ORDER BY id LIMIT ?)`;

const SET_COUNT = "UPDATE event_counts SET n = ? WHERE queue = ?";

/** Ordered by the column, not the text the answer carries ("10" sorts before "9"). */
const READ = `
SELECT CAST(id AS TEXT) AS id, body FROM events WHERE queue = ? AND id > ? ORDER BY events.id LIMIT ?`;

const LAST = "SELECT CAST(max(id) AS TEXT) AS id FROM events WHERE queue = ?";

/** The newest id the log has given any queue (AUTOINCREMENT's count), trimmed or cleared since or not. */
const NEWEST = "SELECT CAST(seq AS TEXT) AS id FROM sqlite_sequence WHERE name = 'events'";

export class EventStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly signals: Signals,
    /** Most rows kept per queue; 0: nothing is appended. */
    readonly cap: number,
  ) {}

  /**
   * Appends `bodies` inside the caller's write transaction and trims the
   * queue to the cap; returns whether it appended (announce it after the commit).
   */
  appendWithin(queue: string, bodies: readonly string[]): boolean {
    if (this.cap === 0 || bodies.length === 0) return false;
    const insert = this.db.statement(APPEND);
    // Bodies the trim would drop at once are never written.
    const kept = bodies.slice(-this.cap);
    for (const body of kept) insert.run(queue, body);
    const { n } = this.db.statement(COUNT).get(queue, kept.length) as { n: number };
    if (n > this.cap) {
      this.db.statement(TRIM).run(queue, n - this.cap);
      this.db.statement(SET_COUNT).run(this.cap, queue);
    }
    return true;
  }

  /** Wakes this process's waiting reads of `queue` after a write that appended. */
  announce(queue: string, appended: boolean): void {
    if (appended) this.signals.announceEvents(queue);
  }

  async append(
    queue: string,
    bodies: readonly string[],
    holders?: readonly (ClaimRef | undefined)[],
  ): Promise<void> {
    checkHolders(bodies, holders);
    this.db.assertConnected();
    const appended = await this.db.write("appendEvents", () => {
      // Checked inside the write: no cancel or settle can come between the check and the append.
      const held = this.db.statement(HELD);
      const kept = bodiesOfCurrentHolders(
        bodies,
        holders,
        (holder) => held.get(queue, holder.id, holder.fence) !== undefined,
      );
      return this.appendWithin(queue, kept);
    });
    this.announce(queue, appended);
  }

  async read(queue: string, request: EventReadRequest): Promise<StoredEvent[]> {
    const after = checkedRead(request);
    this.db.assertConnected();
    if (this.cap === 0) return [];
    const look = async () => {
      const rows = this.db.read(
        "readEvents",
        () => this.db.statement(READ).all(queue, after, request.limit) as StoredEvent[],
      );
      // Nothing after the position: make sure it is not one this log has yet to give.
      if (rows.length === 0 && after > 0) {
        const row = this.db.read(
          "readEvents",
          () => this.db.statement(NEWEST).get() as { id: string } | undefined,
        );
        const newest = row?.id ?? null;
        if (newest === null || after > Number(newest))
          throw positionAheadError(String(after), newest);
      }
      return rows;
    };
    return readEventsWaiting(
      {
        look,
        arm: () => this.signals.eventSignal(queue),
        connected: () => this.db.isConnected,
        pollMs: FALLBACK_POLL_MS,
      },
      request,
    );
  }

  async last(queue: string): Promise<string | null> {
    this.db.assertConnected();
    if (this.cap === 0) return null;
    const row = this.db.read(
      "lastEventId",
      () => this.db.statement(LAST).get(queue) as { id: string | null } | undefined,
    );
    return row?.id ?? null;
  }
}
