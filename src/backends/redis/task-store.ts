/**
 * @module backends/redis/task-store
 * Writing task records: add, settle, promote due tasks, cancel, delete, clear
 * a queue, prune expired records. Each is one Lua script (or a loop of short
 * ones), so no other worker sees a half-done change; every script checks its
 * arguments before its first write. A call resent after a lost reply
 * is recognised (add and cancel by a request token; settle by its fences),
 * so the session may send these again (see `./session.ts`).
 */
import { isoAt } from "../../clock.js";
import { InvalidOptionError } from "../../errors.js";
import { encodeCompactTaskData, readStoredRecord } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import { encodeWorkflowData } from "../../task/workflow-codec.js";
import type {
  AddMode,
  AddOptions,
  DedupeEntry,
  DedupeResult,
  RetentionSettings,
  Settlement,
  SettleResult,
  WorkflowStepEnd,
} from "../backend.js";
import { checkNewWork, routeOf } from "../record-route.js";
import { checkRescheduled, mayReschedule } from "../reschedule-rule.js";
import { creationTimeOf } from "../task-listing.js";
import { claimSpec } from "./claim-spec.js";
import type { ClaimedForms } from "./claimed-forms.js";
import { addDeduplicated, pruneDedupe } from "./dedupe.js";
import type { QueueKeys } from "./keys.js";
import {
  encodeKeyedRecord,
  encodeSettledRecord,
  RECORD_FIELDS,
  readRecord,
  routeArgs,
} from "./record-codec.js";
import type { RedisSession } from "./session.js";

/** Due tasks moved to claimable per script call. */
const PROMOTE_BATCH = 1000;
/** Records removed per script call while clearing a queue. */
const CLEAR_BATCH = 500;
/** Expired records deleted per script call (each call is one short atomic step). */
const PRUNE_BATCH = 1000;

/** The scripts' count bounds argument: `'maxFinished:maxFailed'`, either part empty for no bound. */
function countBoundsArg(retention: RetentionSettings): string {
  return `${retention.maxFinished ?? ""}:${retention.maxFailed ?? ""}`;
}

/** The keys of one call of `clear.lua`, in its order. */
export function clearKeys(k: QueueKeys): string[] {
  return [
    k.ids,
    k.pending,
    k.wake,
    k.scheduled,
    k.processing,
    k.done,
    k.counts,
    k.crons,
    k.rateLimitKeys,
    k.expires,
    k.suspects,
    k.workflows,
    k.runningWorkflows,
    k.workflowExpires,
    k.legacyIds,
    k.dedupe,
    k.dedupeChecks,
    k.events,
  ];
}

/** The arguments of one call of `clear.lua`, removing up to `batch` records. */
export function clearArgs(k: QueueKeys, batch: number): (string | number)[] {
  return [k.task, batch, k.workflow, k.workflowPending];
}

/** The keys `add.lua` takes, in its order. */
function addKeys(k: QueueKeys): string[] {
  return [
    k.ids,
    k.pending,
    k.wake,
    k.scheduled,
    k.processing,
    k.done,
    k.counts,
    k.expires,
    k.events,
  ];
}

/** The workflow part of a settlement, as `settle.lua` reads it after the chained tasks. */
function pushWorkflowArgs(args: (string | number)[], s: Settlement, eventCap: number): void {
  if (s.workflowStep) {
    const { workflowId, resume, resumeEvent } = s.workflowStep;
    args.push(
      1,
      workflowId,
      resume.id,
      encodeKeyedRecord(resume),
      creationTimeOf(resume),
      resume.status,
      eventCap > 0 ? (resumeEvent ?? "") : "",
    );
  } else {
    args.push(0);
  }
  const write = s.workflow;
  if (!write) {
    args.push(0);
    return;
  }
  const { record } = write;
  const finished = record.finishedAt !== null;
  args.push(
    1,
    record.id,
    encodeWorkflowData(record),
    record.status,
    record.finishedAt ?? "",
    write.expectedSteps,
    record.steps.length,
    finished && write.expiresAt !== null ? write.expiresAt : "",
    eventCap > 0 ? (write.event ?? "") : "",
    record.pending.length,
    ...record.pending,
  );
}

export class TaskStore {
  constructor(
    private readonly session: RedisSession,
    private readonly retention: RetentionSettings,
    private readonly now: () => number,
    /** Most entries of a queue's event log; 0: events given to writes are dropped. */
    private readonly eventCap: number,
    /** What each claim left in its tasks' hashes (see `claimed-forms.ts`). */
    private readonly forms: ClaimedForms,
  ) {}

  async add(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode,
    options?: AddOptions,
  ): Promise<boolean[]> {
    if (records.length === 0) return [];
    const events = this.eventCap > 0 ? options?.events : undefined;
    if (events && events.length !== records.length) {
      throw new InvalidOptionError(
        `add: events must hold one body per record (got ${events.length} for ${records.length} records)`,
      );
    }
    const now = this.now();
    const read = records.map((given) =>
      readStoredRecord(
        typeof given?.id === "string" ? given.id : "",
        given,
        "task record added to Redis",
        now,
      ),
    );
    checkNewWork(
      read.filter((r) => !r.malformed).map((r) => r.record),
      "add",
    );
    // A record that cannot be used is stored as its failed stand-in, finished at once.
    return this.#write(
      queue,
      read.map((r) => r.record),
      mode,
      events,
    );
  }

  async reschedule(queue: string, givenRead: TaskData, givenNext: TaskData): Promise<boolean> {
    const { read, next } = checkRescheduled(givenRead, givenNext, "Redis");
    const key = `${this.session.keys(queue).task}${read.id}`;
    const row = await this.session.call("reschedule", (client) =>
      // A key that holds no hash (changed by hand) holds no task to move.
      client.hmget(key, ...RECORD_FIELDS).catch(() => null),
    );
    const [json, status, startedAt, finishedAt, expires] = row ?? [];
    const now = this.now();
    if (!json || (expires && Number(expires) <= now)) return false;
    const stored = readRecord(read.id, json, { status, startedAt, finishedAt }, now);
    // Claims are refused by the script, which also finds the JSON unchanged since this read.
    if (!mayReschedule(stored, false, read)) return false;
    const [done] = await this.#write(queue, [next], "reschedule", undefined, [json]);
    return done!;
  }

  /**
   * Writes `records` in `mode` (add.lua), with an event body per record when
   * given, and for a reschedule the stored JSON each replaces; one flag per record.
   */
  async #write(
    queue: string,
    records: readonly TaskData[],
    mode: AddMode | "reschedule",
    events?: readonly string[] | undefined,
    expected?: readonly string[],
  ): Promise<boolean[]> {
    const k = this.session.keys(queue);
    this.session.register(queue);
    const args: (string | number)[] = [k.task, mode, this.session.requestToken(), this.eventCap];
    records.forEach((record, i) => {
      args.push(
        record.id,
        ...routeArgs(record, routeOf(record, null)),
        creationTimeOf(record),
        record.status,
        claimSpec(record),
        events?.[i] ?? "",
        expected?.[i] ?? "",
      );
    });
    const added = (await this.session.script("add", addKeys(k), args)) as number[];
    return added.map((flag) => flag === 1);
  }

  addDeduplicated(
    queue: string,
    entries: readonly DedupeEntry[],
    now: number,
  ): Promise<DedupeResult[]> {
    this.session.register(queue);
    return addDeduplicated(this.session, this.session.keys(queue), entries, now, this.eventCap);
  }

  async settle(
    queue: string,
    settlements: readonly Settlement[],
    now: number,
  ): Promise<SettleResult[]> {
    if (settlements.length === 0) return [];
    const k = this.session.keys(queue);
    const args: (string | number)[] = [
      k.task,
      now,
      k.finishedChannel,
      countBoundsArg(this.retention),
      k.workflow,
      k.workflowPending,
      this.eventCap,
    ];
    for (const s of settlements) {
      const route = routeOf(s.record, now);
      // A retry or put-off start whose time has come is stored as what it is now: pending.
      const record =
        route.kind === "claimable" && s.record.status !== "pending"
          ? { ...s.record, status: "pending" as const }
          : s.record;
      const expires = route.kind === "finished" && s.expiresAt !== null ? s.expiresAt : "";
      // A step's record is also kept with its workflow, read there without the hash's fields.
      const stored = s.workflowStep ? encodeCompactTaskData(record) : encodeSettledRecord(record);
      const [json, where, extra] = routeArgs(record, route, stored);
      const startedAt = record.startedAt ?? "";
      // A step's JSON is also kept with its workflow, so it is always sent.
      const unchanged = s.workflowStep
        ? undefined
        : this.forms.take(k.task, record.id, s.fence, json, startedAt);
      // `=`: the hash's field is left as the claim left it (no JSON or instant is ever `=`).
      args.push(record.id, s.fence, unchanged?.json ? "=" : json, record.status, where, extra);
      args.push(expires, unchanged?.startedAt ? "=" : startedAt);
      args.push(record.finishedAt ?? "", s.children.length);
      s.children.forEach((child, i) => {
        args.push(
          child.id,
          encodeKeyedRecord(child),
          creationTimeOf(child),
          child.status,
          claimSpec(child),
          this.eventCap > 0 ? (s.childEvents?.[i] ?? "") : "",
        );
      });
      pushWorkflowArgs(args, s, this.eventCap);
      const events = this.eventCap > 0 ? (s.events ?? []) : [];
      args.push(events.length, ...events);
    }
    const results = (await this.session.script(
      "settle",
      [
        k.pending,
        k.wake,
        k.scheduled,
        k.processing,
        k.done,
        k.counts,
        k.expires,
        k.ids,
        k.runningWorkflows,
        k.workflowExpires,
        k.concurrencyCap,
        k.events,
      ],
      args,
    )) as number[];
    return results.map((flag) => (flag === 1 ? "settled" : "lost"));
  }

  /** When the earliest waiting task is due (its score in the due-time index), `null` when none waits. */
  async nextDueAt(queue: string): Promise<number | null> {
    const scheduled = this.session.keys(queue).scheduled;
    const [, score] = await this.session.call(
      "nextDueAt",
      (client) => client.zrange(scheduled, 0, 0, "WITHSCORES"),
      "always",
      false,
    );
    return score === undefined ? null : Number(score);
  }

  /** Makes every task due by `now` claimable; returns their ids. */
  async promoteDue(queue: string, now: number): Promise<string[]> {
    const k = this.session.keys(queue);
    const moved: string[] = [];
    for (;;) {
      const batch = (await this.session.script(
        "promoteDue",
        [k.scheduled, k.pending, k.wake],
        [k.task, now, PROMOTE_BATCH],
      )) as string[];
      moved.push(...batch);
      if (batch.length < PROMOTE_BATCH) return moved;
    }
  }

  async cancel(
    queue: string,
    id: string,
    cancellation: {
      at: number;
      expiresAt: number | null;
      workflowStep?: WorkflowStepEnd | undefined;
      event?: string | undefined;
      running?: boolean | undefined;
    },
  ): Promise<TaskData | null> {
    const k = this.session.keys(queue);
    const cancelledAt = isoAt(cancellation.at);
    const step = cancellation.workflowStep;
    // A step's cancelled record is kept with its workflow: it is built here, from the record as
    // it is now, because the script cannot rewrite JSON (it is written only if the cancel succeeds).
    const stepArgs = step
      ? await this.#cancelledStepArgs(queue, id, step, cancelledAt)
      : ["", "", "", "", "", ""];
    const resumeEvent = this.eventCap > 0 && stepArgs[0] !== "" ? (step?.resumeEvent ?? "") : "";
    const row = (await this.session.script(
      "cancel",
      [
        k.pending,
        k.scheduled,
        k.processing,
        k.done,
        k.counts,
        this.session.requestKey(k),
        k.expires,
        k.ids,
        k.wake,
        k.events,
      ],
      [
        k.task,
        id,
        cancelledAt,
        k.finishedChannel,
        cancellation.expiresAt ?? "",
        k.workflow,
        k.workflowPending,
        ...stepArgs,
        this.eventCap,
        this.eventCap > 0 ? (cancellation.event ?? "") : "",
        resumeEvent,
        cancellation.running ? "1" : "0",
      ],
    )) as (string | null)[] | null;
    if (!row) return null;
    const [json, status, startedAt, finishedAt] = row;
    return readRecord(id, json ?? "", { status, startedAt, finishedAt }, this.now());
  }

  /**
   * The workflow arguments of `cancel.lua` for a step: workflow id, resume id
   * and json, cancelled record json, resume creation time and status.
   */
  async #cancelledStepArgs(
    queue: string,
    id: string,
    step: WorkflowStepEnd,
    finishedAt: string,
  ): Promise<(string | number)[]> {
    const k = this.session.keys(queue);
    const [json, status, started, finished] = (await this.session.call("cancel", (client) =>
      client.hmget(`${k.task}${id}`, "d", "status", "startedAt", "finishedAt"),
    )) as (string | null)[];
    if (json === null || json === undefined) return ["", "", "", "", "", ""];
    const fields = { status, startedAt: started, finishedAt: finished };
    const record = readRecord(id, json, fields, this.now());
    const cancelled: TaskData = { ...record, status: "cancelled", finishedAt };
    return [
      step.workflowId,
      step.resume.id,
      encodeKeyedRecord(step.resume),
      // Kept with the workflow, read there without the hash's fields: the whole record.
      encodeCompactTaskData(cancelled),
      creationTimeOf(step.resume),
      step.resume.status,
    ];
  }

  async deleteTask(queue: string, id: string): Promise<boolean> {
    const k = this.session.keys(queue);
    return (
      (await this.session.script(
        "deleteTask",
        [k.ids, k.done, k.counts, k.expires],
        [k.task, id, this.now()],
      )) === 1
    );
  }

  /** Removes every record of the queue, its workflows, crons, rate limits and event log; returns how many records, workflows and crons. */
  async clear(queue: string): Promise<number> {
    const k = this.session.keys(queue);
    let removed = 0;
    for (;;) {
      const [count, finished] = (await this.session.script(
        "clear",
        clearKeys(k),
        clearArgs(k, CLEAR_BATCH),
      )) as [number, number];
      removed += count;
      if (finished === 1) return removed;
    }
  }

  /** Deletes every record of `queue` whose expiry is due by `now`; returns how many. */
  async pruneExpired(queue: string, now: number): Promise<number> {
    const k = this.session.keys(queue);
    let deleted = 0;
    for (;;) {
      const [count, seen] = (await this.session.script(
        "pruneExpired",
        [k.expires, k.ids, k.done, k.counts],
        [k.task, now, PRUNE_BATCH, countBoundsArg(this.retention)],
      )) as [number, number];
      deleted += count;
      if (seen < PRUNE_BATCH) break;
    }
    await pruneDedupe(this.session, k, now);
    return deleted;
  }
}
