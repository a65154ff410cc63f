/**
 * The queue's event log: every add, settle and cancel appends its lifecycle
 * events in the same atomic step as its write (and only when it writes);
 * a worker's `started` and `progress` events precede the settle that ends
 * the attempt; reads page in order and resume strictly after a position,
 * wait for the next append (from another connection too), keep the newest
 * `eventCap` entries, and `clear` drops the log without ever reusing a
 * position. `queue.events()` iterates it.
 */

import { describe, expect, it } from "vitest";
import {
  InvalidOptionError,
  log,
  progress,
  type QueueEvent,
  type TaskData,
  task,
} from "../../index.js";
import { eventBody, readEvent, STARTED_MARK } from "../../task/lifecycle-event.js";
import type { ContractHarness } from "../harness.js";
import { logOf } from "../support/event-log.js";
import { finishedRecord, settleClaim } from "../support/records.js";
import { until } from "../support/until.js";

const echo = task({ name: "events.echo" }, (n: number) => n);
const reporting = task({ name: "events.reporting" }, async (n: number) => {
  progress({ done: n });
  // Long enough for the progress write to land before the task ends.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return n;
});
const logging = task({ name: "events.logging" }, async (n: number) => {
  log("line 1");
  log("line 2");
  // Past the first write (after 200 ms) and before the next may start (1 s after it).
  await new Promise((resolve) => setTimeout(resolve, 400));
  log("after 1");
  progress({ done: n });
  // Long enough for that second write (1 s after the first) to land before the task ends.
  await new Promise((resolve) => setTimeout(resolve, 1300));
  return n;
});
/** Reports, waits `ms` (past the first write when ≥ 200), reports again and ends at once. */
const tail = task({ name: "events.tail" }, async (ms: number) => {
  log("first");
  progress({ step: "first" });
  await new Promise((resolve) => setTimeout(resolve, ms));
  log("last");
  progress({ step: "last" });
  return ms;
});
const failing = task({ name: "events.failing", retry: 1, retryDelay: 0 }, (_n: number) => {
  throw new Error("boom");
});
const limited = task(
  { name: "events.limited", rateLimit: { maxRate: 1, ratePeriod: 60 } },
  (n: number) => n,
);
const data = (n: number): TaskData => ({ ...echo(n).toJSON(), status: "pending" });
const slow = task({ name: "events.slow" }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

/** The log as `type:taskId` pairs, for order checks. */
const steps = (events: readonly QueueEvent[]) => events.map((e) => `${e.type}:${e.taskId}`);

export function eventCases(h: ContractHarness): void {
  describe("event log", () => {
    it("EV-1 add appends one `added` event per stored record, in order; a duplicate id appends none", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const [a, b] = [echo(1), echo(2)];
      expect(await queue.add([a, b])).toEqual([true, true]);
      expect(await queue.add(a)).toBe(false);
      const log = await logOf(backend, queue.name);
      expect(steps(log)).toEqual([`added:${a.id}`, `added:${b.id}`]);
      expect(log[0]).toMatchObject({
        queue: queue.name,
        taskName: "events.echo",
        attempt: 1,
        status: "pending",
      });
      expect(log[0]!.at).toBeGreaterThan(0);
      expect(log[0]!.id).not.toBe(log[1]!.id);
    });

    it("EV-2 a scheduled add's event says when it runs", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const at = new Date(Date.now() + 3_600_000);
      const t = echo(1);
      await queue.schedule(t, at);
      const [event] = await logOf(backend, queue.name);
      expect(event).toMatchObject({ type: "added", taskId: t.id, status: "scheduled" });
      expect(event!.runAt).toBe(at.getTime());
    });

    it("EV-3 a worker's run appends started then completed (with its duration) after added", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = echo(7);
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      const log = await logOf(backend, queue.name);
      expect(steps(log)).toEqual([`added:${t.id}`, `started:${t.id}`, `completed:${t.id}`]);
      expect(log[1]).toMatchObject({ attempt: 1, status: "processing" });
      expect(log[2]).toMatchObject({ attempt: 1, status: "completed" });
      expect(typeof log[2]!.durationMs).toBe("number");
    });

    it("EV-32 a start stored as a one-character mark before its end reads as its whole `started`, through queue.events() in pages of any size, following or not", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await backend.add(queue.name, [data(1), data(2)]);
      const claims = await backend.claim(queue.name, 2);
      const ends = claims.map((claim, i) => {
        const record = finishedRecord(claim.record);
        const end = eventBody("completed", record, 5_000 + i, {
          attempt: 1,
          startedBefore: 40 + i,
        });
        return {
          fence: claim.fence,
          record,
          children: [],
          expiresAt: null,
          events: [STARTED_MARK, end],
        };
      });
      expect(await backend.settle(queue.name, ends, Date.now())).toEqual(["settled", "settled"]);
      const log = await logOf(backend, queue.name);
      // The backend's own add appends nothing (the queue hands it the events): the log is the settle's.
      expect(log.map((e) => e.type)).toEqual(["started", "completed", "started", "completed"]);
      expect(log.map((e) => e.at)).toEqual([4960, 5000, 4960, 5001]);
      expect(log[0]).toMatchObject({
        taskId: claims[0]!.record.id,
        attempt: 1,
        status: "processing",
      });
      expect(log[2]).toMatchObject({ taskId: claims[1]!.record.id, taskName: "events.echo" });
      for (const batchSize of [1, 2, 3]) {
        const heard: QueueEvent[] = [];
        const stop = new AbortController();
        for await (const event of queue.events({
          after: "start",
          batchSize,
          signal: stop.signal,
        })) {
          heard.push(event);
          if (heard.length === log.length) stop.abort();
        }
        expect(heard, `batchSize ${batchSize}`).toEqual(log);
      }
      // Not following: every event the log holds, in pages of any size, and then the loop ends.
      for (const batchSize of [1, 2, 3, 4, 5, 100]) {
        const heard: QueueEvent[] = [];
        for await (const event of queue.events({ after: "start", batchSize, follow: false })) {
          heard.push(event);
        }
        expect(heard, `follow: false, batchSize ${batchSize}`).toEqual(log);
      }
      expect(() => queue.events({ follow: false })).toThrow(
        /follow: false reads what the log holds, so it needs after: "start" or an event id/,
      );
      // After the newest event there is nothing yet: the loop ends at once.
      const afterLast: QueueEvent[] = [];
      for await (const event of queue.events({ after: log.at(-1)!.id, follow: false })) {
        afterLast.push(event);
      }
      expect(afterLast).toEqual([]);
      expect(() => queue.events({ follow: "no" as never })).toThrow(
        'queue.events(): follow must be true or false (got "no")',
      );
    });

    it("EV-33 a worker's quick attempt writes its start as the mark (whole once it has run a while), and the log reads the same", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = echo(7);
      await queue.add(t);
      const before = Date.now();
      await h.worker(queue).work({ maxTasks: 1 });
      const bodies = (await backend.readEvents(queue.name, { after: null, limit: 10 })).map(
        (e) => e.body,
      );
      expect(bodies).toHaveLength(3);
      // A `started` still held when the attempt ends goes as the mark; one held past its moment
      // (a machine stalled between the start and the end) was appended whole, which reads the same.
      if (bodies[1] !== STARTED_MARK) expect(JSON.parse(bodies[1]!)[1]).toBe("started");
      const log = await logOf(backend, queue.name);
      expect(log[1]).toMatchObject({
        type: "started",
        taskId: t.id,
        taskName: "events.echo",
        attempt: 1,
        status: "processing",
      });
      expect(log[1]!.at).toBeGreaterThanOrEqual(before);
      expect(log[1]!.at).toBeLessThanOrEqual(log[2]!.at);
    });

    /** A queue whose `events.failing` task ran both its attempts and failed. */
    async function failedTwice() {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = failing(1);
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 2 });
      return { queue, backend, t };
    }

    it("EV-4 a failure with a retry left appends retrying (error, next run), then the second attempt's started and failed", async () => {
      const { queue, backend } = await failedTwice();
      const log = await logOf(backend, queue.name);
      expect(log.map((e) => `${e.type}#${e.attempt}`)).toEqual([
        "added#1",
        "started#1",
        "retrying#1",
        "started#2",
        "failed#2",
      ]);
      expect(log[2]!.error).toEqual({ type: "Error", message: "boom" });
      expect(typeof log[2]!.runAt).toBe("number");
      expect(log[4]).toMatchObject({ status: "failed", error: { type: "Error", message: "boom" } });
    });

    it("EV-30 a manual retry numbers its attempts on from the earlier ones: after two failed attempts, queue.retry() appends added, started and failed with attempt 3", async () => {
      const { queue, backend, t } = await failedTwice();
      expect(await queue.retry(t)).toBe(true);
      await h.worker(queue).work({ maxTasks: 1 });
      const log = await logOf(backend, queue.name);
      // The same number currentTask(), the attempt's span and its log lines carry.
      expect(log.map((e) => `${e.type}#${e.attempt}`)).toEqual([
        "added#1",
        "started#1",
        "retrying#1",
        "started#2",
        "failed#2",
        "added#3",
        "started#3",
        "failed#3",
      ]);
    });

    it("EV-5 a settle appends its events only when it writes: not when lost, not when a resend finds it written", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await backend.add(queue.name, [data(1)]);
      const [claim] = await backend.claim(queue.name, 1);
      const record = finishedRecord(claim!.record);
      const settlement = {
        fence: claim!.fence,
        record,
        children: [],
        expiresAt: null,
        events: ['{"type":"completed","n":1}'],
      };
      const stale = {
        ...settlement,
        fence: claim!.fence + 1,
        events: ['{"type":"completed","n":2}'],
      };
      expect(await backend.settle(queue.name, [stale], Date.now())).toEqual(["lost"]);
      expect(await backend.settle(queue.name, [settlement], Date.now())).toEqual(["settled"]);
      expect(await backend.settle(queue.name, [settlement], Date.now())).toEqual(["settled"]);
      const bodies = (await backend.readEvents(queue.name, { after: null, limit: 10 })).map(
        (e) => e.body,
      );
      expect(bodies).toEqual(['{"type":"completed","n":1}']);
    });

    it("EV-6 a cancel appends `cancelled` when it cancels, nothing when the task is running", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const [waiting, running] = [echo(1), echo(2)];
      await queue.add(running);
      const [claim] = await backend.claim(queue.name, 1);
      expect(claim!.record.id).toBe(running.id);
      await queue.add(waiting);
      await queue.cancel(waiting);
      await expect(queue.cancel(running)).rejects.toThrow(/running/);
      const log = await logOf(backend, queue.name);
      expect(steps(log)).toEqual([
        `added:${running.id}`,
        `added:${waiting.id}`,
        `cancelled:${waiting.id}`,
      ]);
      expect(log[2]).toMatchObject({ status: "cancelled" });
    });

    it("EV-7 a dedupe add appends `added` when it adds or replaces, nothing when it is ignored", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const first = echo(1);
      await queue.add(first, { dedupe: { key: "k" } });
      expect((await queue.add(echo(2), { dedupe: { key: "k" } })).outcome).toBe("ignored");
      expect((await queue.add(echo(3), { dedupe: { key: "k", mode: "replace" } })).outcome).toBe(
        "replaced",
      );
      const log = await logOf(backend, queue.name);
      expect(log.map((e) => e.type)).toEqual(["added", "added"]);
      expect(log.every((e) => e.taskId === first.id)).toBe(true);
    });

    it("EV-8 the log keeps the newest eventCap entries, in order", async () => {
      const queue = h.queue({ eventCap: 5 });
      const backend = await queue.connect();
      expect(backend.eventCap).toBe(5);
      for (let i = 0; i < 3; i++)
        await backend.appendEvents(
          queue.name,
          [0, 1, 2, 3].map((j) => `{"n":${i * 4 + j}}`),
        );
      const kept = await backend.readEvents(queue.name, { after: null, limit: 100 });
      expect(kept.map((e) => e.body)).toEqual([7, 8, 9, 10, 11].map((n) => `{"n":${n}}`));
      expect(await backend.lastEventId(queue.name)).toBe(kept[4]!.id);
    });

    it("EV-9 reads page in order and resume strictly after a position; after the last there is nothing", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      expect(await backend.lastEventId(queue.name)).toBeNull();
      await backend.appendEvents(
        queue.name,
        Array.from({ length: 10 }, (_, n) => `{"n":${n}}`),
      );
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await backend.readEvents(queue.name, { after, limit: 3 });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(3);
        seen.push(...page.map((e) => e.body));
        after = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(Array.from({ length: 10 }, (_, n) => `{"n":${n}}`));
      expect(after).toBe(await backend.lastEventId(queue.name));
      expect(await backend.readEvents(queue.name, { after, limit: 3 })).toEqual([]);
    });

    it("EV-36 an append with holders keeps a body only while its holder's claim is current: not after a cancel, a settle, or under another fence", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const q = queue.name;
      const [a, b, c] = [1, 2, 3].map(
        (n): TaskData => ({ ...echo(n).toJSON(), status: "pending" }),
      );
      await backend.add(q, [a!, b!, c!]);
      const claims = await backend.claim(q, 3);
      const fenceOf = (id: string) => claims.find((claim) => claim.record.id === id)!.fence;
      const holder = (d: TaskData, fence = fenceOf(d.id)) => ({ id: d.id, fence });
      const bodies = async () =>
        (await backend.readEvents(q, { after: null, limit: 100 }))
          .map((e) => e.body)
          .filter((body) => body.startsWith('{"n"'));
      await backend.appendEvents(
        q,
        ['{"n":"a1"}', '{"n":"free1"}', '{"n":"b1"}', '{"n":"a2"}'],
        [holder(a!), undefined, holder(b!), holder(a!)],
      );
      expect(await bodies()).toEqual(['{"n":"a1"}', '{"n":"free1"}', '{"n":"b1"}', '{"n":"a2"}']);
      const at = Date.now();
      expect(await backend.cancel(q, a!.id, { at, expiresAt: null, running: true })).not.toBeNull();
      const bClaim = claims.find((claim) => claim.record.id === b!.id)!;
      expect(await settleClaim(backend, q, bClaim)).toBe("settled");
      await backend.appendEvents(
        q,
        ['{"n":"a3"}', '{"n":"b2"}', '{"n":"c-stale"}', '{"n":"free2"}', '{"n":"c1"}'],
        [holder(a!), holder(b!), holder(c!, fenceOf(c!.id) + 1), undefined, holder(c!)],
      );
      expect(await bodies()).toEqual([
        '{"n":"a1"}',
        '{"n":"free1"}',
        '{"n":"b1"}',
        '{"n":"a2"}',
        '{"n":"free2"}',
        '{"n":"c1"}',
      ]);
      // A holder per body, or none at all.
      await expect(backend.appendEvents(q, ['{"n":"x"}'], [])).rejects.toThrow(InvalidOptionError);
      expect(await bodies()).toHaveLength(6);
    });

    it("EV-10 a waiting read returns the next append, made through another connection", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const backend = await queue.connect();
      const writer = await other.connect();
      const last = await backend.lastEventId(queue.name);
      const reading = backend.readEvents(queue.name, { after: last, limit: 10, waitMs: 15_000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await writer.appendEvents(queue.name, ['{"n":"late"}']);
      expect((await reading).map((e) => e.body)).toEqual(['{"n":"late"}']);
    });

    it("EV-10 a waiting read ends at once, empty, when its signal aborts; the log reads on from there", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const last = await backend.lastEventId(queue.name);
      const stop = new AbortController();
      const startedAt = Date.now();
      const reading = backend.readEvents(queue.name, {
        after: last,
        limit: 10,
        waitMs: 20_000,
        signal: stop.signal,
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      stop.abort();
      expect(await reading).toEqual([]);
      // Far inside the 20 s wait: the abort ended it, not its timeout.
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      await backend.appendEvents(queue.name, ['{"n":"after"}']);
      const read = await backend.readEvents(queue.name, { after: last, limit: 10 });
      expect(read.map((e) => e.body)).toEqual(['{"n":"after"}']);
    });

    it("EV-10 queue.events(): an abort ends a next() that waits for the next event at once", async () => {
      const queue = h.queue();
      await queue.connect();
      const stop = new AbortController();
      const events = queue.events({ after: "now", signal: stop.signal })[Symbol.asyncIterator]();
      const first = events.next();
      await queue.add(echo(1));
      expect((await first).value?.type).toBe("added");
      const waiting = events.next();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const startedAt = Date.now();
      stop.abort();
      expect((await waiting).done).toBe(true);
      // The iterator reads in waits of a second, and this one had 0.9 s left: it was not sat out.
      expect(Date.now() - startedAt).toBeLessThan(700);
    });

    it("EV-10 queue.events(): return() ends a next() that waits for the next event at once, as a consumer that leaves does", async () => {
      const queue = h.queue();
      await queue.connect();
      const events = queue.events({ after: "now" })[Symbol.asyncIterator]();
      const waiting = events.next();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const startedAt = Date.now();
      // An async generator's return() would wait behind the pending next(), for an event that
      // may never come on a quiet queue.
      expect(await events.return(undefined)).toEqual({ done: true, value: undefined });
      expect((await waiting).done).toBe(true);
      expect(Date.now() - startedAt).toBeLessThan(700);
      // Ended: a later next() is done at once too.
      expect((await events.next()).done).toBe(true);
    });

    it("EV-11 clear drops the log; positions are not reused, so a reader resuming after an old one sees what came after", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add([echo(1), echo(2)]);
      const old = await backend.lastEventId(queue.name);
      await queue.clear();
      expect(await backend.readEvents(queue.name, { after: null, limit: 10 })).toEqual([]);
      const t = echo(3);
      await queue.add(t);
      const next = await backend.readEvents(queue.name, { after: old, limit: 10 });
      expect(next.map((e) => readEvent(queue.name, e.id, e.body).taskId)).toEqual([t.id]);
    });

    it("EV-12 queues have logs of their own", async () => {
      const [q1, q2] = [h.queue(), h.queue()];
      const backend = await q1.connect();
      await q1.add(echo(1));
      expect(await logOf(backend, q2.name)).toEqual([]);
      expect(await backend.lastEventId(q2.name)).toBeNull();
      expect(await logOf(backend, q1.name)).toHaveLength(1);
    });

    it("EV-13 eventCap 0 turns the log off: nothing is appended, queue.events() says so, adds and runs go on", async () => {
      const queue = h.queue({ eventCap: 0 });
      const backend = await queue.connect();
      expect(backend.eventCap).toBe(0);
      await backend.appendEvents(queue.name, ['{"n":1}']);
      const t = echo(1);
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      expect((await queue.getTask(t))?.status).toBe("completed");
      expect(await backend.readEvents(queue.name, { after: null, limit: 10 })).toEqual([]);
      expect(await backend.lastEventId(queue.name)).toBeNull();
      await expect(queue.events().next()).rejects.toThrow(/event log .* is off/);
      // With no log, no position is ahead of it: a read after one, in the backend's own form, finds nothing.
      const logged = h.queue();
      await logged.add(echo(2));
      const given = await (await logged.connect()).lastEventId(logged.name);
      expect(given).not.toBeNull();
      expect(await backend.readEvents(queue.name, { after: given, limit: 10 })).toEqual([]);
    });

    it("EV-14 a position the log never gave, or a limit below 1, is an InvalidOptionError", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await expect(
        backend.readEvents(queue.name, { after: "not a position", limit: 10 }),
      ).rejects.toThrow(InvalidOptionError);
      await expect(backend.readEvents(queue.name, { after: null, limit: 0 })).rejects.toThrow(
        InvalidOptionError,
      );
      // Options are checked at the call, before any read.
      expect(() => queue.events({ batchSize: 0 })).toThrow(/batchSize/);
      // The listener's error names its option; the backend's, the position's form.
      await expect(queue.events({ after: "not a position" }).next()).rejects.toThrow(
        /^queue\.events\(\): after: event log position .*"not a position".*pass "start"/,
      );
    });

    it("EV-29 a position past the newest the log has given is an InvalidOptionError, not a silent wait (a position saved from another store, or from before a restore)", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add(echo(1));
      const newest = await backend.lastEventId(queue.name);
      expect(newest).not.toBeNull();
      // One position further on, in the log's own form: a counter, or a Redis stream id.
      const ahead = /^\d+$/.test(newest!)
        ? String(Number(newest) + 1000)
        : newest!.replace(/-(\d+)$/, (_, seq: string) => `-${Number(seq) + 1000}`);
      for (const waitMs of [0, 200]) {
        const read = backend.readEvents(queue.name, { after: ahead, limit: 10, waitMs });
        await expect(read).rejects.toThrow(InvalidOptionError);
        await expect(read).rejects.toThrow(/past the newest this log has given/);
      }
      const past = await queue
        .events({ after: ahead })
        .next()
        .catch((e: unknown) => e as Error);
      expect(past).toBeInstanceOf(InvalidOptionError);
      expect((past as Error).message).toMatch(/^queue\.events\(\): after: .*past the newest/);
      // The two ways to start instead are named once.
      expect((past as Error).message.split('"start"')).toHaveLength(2);
      // The newest itself is a position to wait after, also once the log is emptied.
      expect(await backend.readEvents(queue.name, { after: newest, limit: 10 })).toEqual([]);
      await queue.clear();
      expect(await backend.readEvents(queue.name, { after: newest, limit: 10 })).toEqual([]);
      await expect(backend.readEvents(queue.name, { after: ahead, limit: 10 })).rejects.toThrow(
        InvalidOptionError,
      );
    });

    it("EV-15 queue.events() hears another connection's worker, and resumes after an id with no gap and no repeat", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const controller = new AbortController();
      const heard: QueueEvent[] = [];
      const listening = (async () => {
        for await (const event of queue.events({ signal: controller.signal })) {
          heard.push(event);
          if (heard.length === 3) break;
        }
      })();
      // The iterator reads the log's end on its first step; give it that step.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [a, b] = [echo(1), echo(2)];
      await other.add(a);
      await h.worker(other).work({ maxTasks: 1 });
      await listening;
      expect(steps(heard)).toEqual([`added:${a.id}`, `started:${a.id}`, `completed:${a.id}`]);
      await other.add(b);
      await h.worker(other).work({ maxTasks: 1 });
      const resumed: QueueEvent[] = [];
      for await (const event of queue.events({ after: heard[2]!.id, signal: controller.signal })) {
        resumed.push(event);
        if (resumed.length === 3) break;
      }
      expect(steps(resumed)).toEqual([`added:${b.id}`, `started:${b.id}`, `completed:${b.id}`]);
      const fromStart: QueueEvent[] = [];
      for await (const event of queue.events({ after: "start" })) {
        fromStart.push(event);
        if (fromStart.length === 6) break;
      }
      expect(fromStart.map((e) => e.id)).toEqual([...heard, ...resumed].map((e) => e.id));
      controller.abort();
    });

    it("EV-16 an entry that is not an event reads as `unreadable`, and reading goes on", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await backend.appendEvents(queue.name, ["not json", "[1,2]"]);
      const t = echo(1);
      await queue.add(t);
      const seen: QueueEvent[] = [];
      for await (const event of queue.events({ after: "start" })) {
        seen.push(event);
        if (seen.length === 3) break;
      }
      expect(seen.map((e) => e.type)).toEqual(["unreadable", "unreadable", "added"]);
      expect(seen[2]!.taskId).toBe(t.id);
    });

    it("EV-17 a start put off by its rate limit appends `deferred` with its next run", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const [first, second] = [limited(1), limited(2)];
      await queue.add([first, second]);
      const worker = h.worker(queue);
      const deferred = new Promise<void>((resolve) =>
        worker.once("task:deferred", () => resolve()),
      );
      const run = worker.work();
      await deferred;
      await worker.close();
      await run;
      const log = await logOf(backend, queue.name);
      const ofSecond = log.filter((e) => e.taskId === second.id).map((e) => e.type);
      expect(ofSecond).toEqual(["added", "deferred"]);
      const event = log.find((e) => e.type === "deferred")!;
      expect(event.status).toBe("scheduled");
      expect(event.runAt).toBeGreaterThan(Date.now());
      expect(log.filter((e) => e.taskId === first.id).map((e) => e.type)).toEqual([
        "added",
        "started",
        "completed",
      ]);
    });

    it("a completed event carries the task's result, a failed one none", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const [seven, broken] = [echo(7), failing(1)];
      await queue.add([seven, broken]);
      await h.worker(queue).work({ oneshot: true });
      const log = await logOf(backend, queue.name);
      const ended = log.filter((e) => e.type === "completed" || e.type === "failed");
      expect(ended.map((e) => [e.type, e.taskId, e.result])).toEqual([
        ["completed", seven.id, 7],
        ["failed", broken.id, undefined],
      ]);
    });

    it("EV-18 a task's progress is appended between its started and completed events", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = reporting(3);
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      const log = await logOf(backend, queue.name);
      expect(log.map((e) => e.type)).toEqual(["added", "started", "progress", "completed"]);
      expect(log[2]!.progress).toEqual({ done: 3 });
    });

    it("EV-34 a progress event carries the lines the task logged since the previous one", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = logging(2);
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      const log = await logOf(backend, queue.name);
      const reports = log.filter((e) => e.type === "progress");
      expect(reports.map((e) => e.logs)).toEqual([["line 1", "line 2"], ["after 1"]]);
      expect(reports.every((e) => e.logsLeftOut === undefined)).toBe(true);
      expect(reports[1]!.progress).toEqual({ done: 2 });
      const stored = await queue.getTask(t);
      expect(stored?.logs).toEqual(["line 1", "line 2", "after 1"]);
    });

    it("EV-35 what a task reports after its last write reaches the log too: its end carries a last progress event", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const quick = tail(0);
      const slower = tail(400);
      await queue.add([quick, slower]);
      await h.worker(queue).work({ maxTasks: 2 });
      const log = await logOf(backend, queue.name);
      const of = (id: string) => log.filter((e) => e.taskId === id);
      // Ended before any write: one progress event, just before the end, with everything reported.
      expect(of(quick.id).map((e) => e.type)).toEqual([
        "added",
        "started",
        "progress",
        "completed",
      ]);
      expect(of(quick.id)[2]).toMatchObject({
        status: "processing",
        attempt: 1,
        progress: { step: "last" },
        logs: ["first", "last"],
      });
      // Written once meanwhile: the end's progress event carries only what came after.
      const reports = of(slower.id).filter((e) => e.type === "progress");
      expect(reports.map((e) => e.logs)).toEqual([["first"], ["last"]]);
      expect(reports.map((e) => e.progress)).toEqual([{ step: "first" }, { step: "last" }]);
      expect(of(slower.id).at(-1)?.type).toBe("completed");
      expect((await queue.getTask(slower))?.logs).toEqual(["first", "last"]);
    });

    it("EV-19 a long attempt's `started` is in the log while it still runs, stamped with its start", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = slow(3000);
      await queue.add(t);
      const before = Date.now();
      const running = h.worker(queue).work({ maxTasks: 1 });
      const started = await until(
        async () => (await logOf(backend, queue.name)).find((e) => e.type === "started"),
        { timeoutMs: 2500, what: "the started event" },
      );
      expect((await queue.getTask(t))?.status).toBe("processing");
      expect(started.at).toBeGreaterThanOrEqual(before - 1000);
      await running;
      expect((await logOf(backend, queue.name)).map((e) => e.type)).toEqual([
        "added",
        "started",
        "completed",
      ]);
    });

    it("EV-28 a claim answered after its worker stopped goes back pending with no event; an attempt cut off at shutdown ends `interrupted`", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const [late, cut] = [echo(1), slow(5000)];
      await queue.add(late);
      // The first claim that takes a task answers only once the worker has been told to stop.
      let answer!: () => void;
      const stopped = new Promise<void>((resolve) => {
        answer = resolve;
      });
      let claimedLate!: () => void;
      const claimMade = new Promise<void>((resolve) => {
        claimedLate = resolve;
      });
      const claim = backend.claim.bind(backend);
      let held = false;
      backend.claim = async (name, limit, waitMs) => {
        const got = await claim(name, limit, waitMs);
        if (got.length > 0 && !held) {
          held = true;
          claimedLate();
          await stopped;
        }
        return got;
      };
      const worker = h.worker(queue);
      const working = worker.work();
      await claimMade;
      const closing = worker.close();
      answer();
      await closing;
      await working;
      const handedBack = await until(
        async () => {
          const stored = await queue.getTask(late);
          return stored?.status === "pending" ? stored : undefined;
        },
        { timeoutMs: 5000, what: "the late claim handed back" },
      );
      expect(handedBack.startedAt).toBeNull();
      expect(steps(await logOf(backend, queue.name))).toEqual([`added:${late.id}`]);

      // On a queue of its own: the first one's task is claimable again.
      const other = h.queue();
      const otherBackend = await other.connect();
      await other.add(cut);
      const second = h.worker(other, { shutdownTimeout: 0.1 });
      // Its attempt started: a stored `processing` says only that it was claimed, and a
      // claim the worker has not started when told to stop goes back with no event (above).
      const attemptStarted = new Promise<void>((resolve) =>
        second.once("task:started", () => resolve()),
      );
      const secondWorking = second.work();
      await attemptStarted;
      await second.close();
      await secondWorking;
      expect(steps(await logOf(otherBackend, other.name))).toEqual([
        `added:${cut.id}`,
        `started:${cut.id}`,
        `interrupted:${cut.id}`,
      ]);
    });

    it("EV-27 queue.events({ types }) yields only events of those types, in log order; an unknown type is an InvalidOptionError", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const [a, b, c] = [echo(1), failing(2), echo(3)];
      await other.add([a, b, c]);
      await h.worker(other).work({ maxTasks: 4 });
      const ends = (e: QueueEvent) => e.type === "completed" || e.type === "failed";
      const heard: QueueEvent[] = [];
      for await (const event of queue.events({ after: "start", types: ["completed", "failed"] })) {
        heard.push(event);
        if (heard.length === 3) break;
      }
      expect(new Set(steps(heard))).toEqual(
        new Set([`completed:${a.id}`, `failed:${b.id}`, `completed:${c.id}`]),
      );
      // The same events, in the same order, as an unfiltered read finds them among the others.
      const everything: QueueEvent[] = [];
      for await (const event of queue.events({ after: "start" })) {
        everything.push(event);
        if (everything.filter(ends).length === 3) break;
      }
      expect(everything.length).toBeGreaterThan(3);
      expect(heard.map((e) => e.id)).toEqual(everything.filter(ends).map((e) => e.id));
      for (const types of [[], ["finished"], "failed"] as unknown[]) {
        expect(() => queue.events({ types: types as [] }), JSON.stringify(types)).toThrow(
          InvalidOptionError,
        );
      }
    });

    it("EV-31 queue.events() starts at its call: what the queue stores after it is heard however late the loop begins, and nothing from before", async () => {
      const queue = h.queue();
      const [before, after] = [echo(1), echo(2)];
      await queue.add(before);
      const events = queue.events({ types: ["added"] });
      // No await between the call and the add: the same queue's add waits for the listener's start.
      const adding = queue.add(after);
      await adding;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const first = await events.next();
      expect(first.done).toBe(false);
      expect(steps([first.value as QueueEvent])).toEqual([`added:${after.id}`]);
      await events.return();
    });
  });
}
