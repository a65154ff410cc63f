/**
 * @module task/lifecycle-event
 * A queue's lifecycle events as every process reads them from the queue's
 * event log (`queue.events()`): what happened to which task, when. The body
 * stored in the log is the event without its position and queue, as JSON;
 * this module writes those bodies from records and reads them back. A body
 * that cannot be read (written by something else, or damaged) comes back as
 * an event of type `unreadable` rather than stopping the reader.
 */
import type { JsonValue } from "../json.js";
import { attemptNumber, type TaskData, type TaskStatus } from "./task-record.js";
import type { WorkflowData, WorkflowStatus } from "./workflow-record.js";
import { isResumeTaskName } from "./workflow-resume-task.js";

/**
 * What happened:
 * - `added` — stored as new work (pending, or scheduled: see `runAt`);
 * - `started` — an attempt began;
 * - `progress` — a running task's reports (`progress`, logs) were written;
 * - `retrying` — an attempt failed and another is due at `runAt`;
 * - `completed`, `failed` — the task finished that way;
 * - `crashed` — its worker stopped renewing its claim (retried at `runAt` with `retryOnCrash`);
 * - `cancelled` — cancelled before it started;
 * - `deferred` — claimed but not run (over its rate limit, or by a worker that
 *   does not know its task name), due again at `runAt`;
 * - `interrupted` — its worker shut down while it ran; it is pending again;
 * - `workflow:added` — a workflow was stored (its first steps' `added` follow);
 * - `workflow:completed`, `workflow:failed`, `workflow:cancelled` — a
 *   workflow finished that way;
 * - `workflow:retried` — a failed workflow runs again (the `added` of the
 *   tasks that move it on follow);
 * - `unreadable` — the log held a body that is not an event.
 *
 * A workflow's own events name the workflow in `taskId` and `taskName`; its
 * steps and resumes are tasks, with task events of their own.
 */
export type QueueEventType =
  | "added"
  | "started"
  | "progress"
  | "retrying"
  | "completed"
  | "failed"
  | "crashed"
  | "cancelled"
  | "deferred"
  | "interrupted"
  | "workflow:added"
  | "workflow:completed"
  | "workflow:failed"
  | "workflow:cancelled"
  | "workflow:retried"
  | "unreadable";

/** What every event carries, whatever its type. */
interface EventBase<T extends QueueEventType> {
  /** Its position in the queue's event log: pass it as `after` to resume after it. */
  readonly id: string;
  readonly type: T;
  readonly queue: string;
  /** The task's id; for a `workflow:` event, the workflow's. */
  readonly taskId: string;
  /** The task's name; for a `workflow:` event, the workflow's. */
  readonly taskName: string;
  /** The attempt it belongs to, from 1, manual retries included (for `added` and `cancelled`, the next attempt). */
  readonly attempt: number;
  /** When it happened (epoch ms, the clock of the process that wrote it). */
  readonly at: number;
  /** The task's (or for a `workflow:` event, the workflow's) status once it happened. */
  readonly status: TaskStatus | WorkflowStatus;
}

/**
 * The fields some types carry. Each is optional on the types that carry it
 * — the log is shared by every process and version that writes to it, and
 * a body written without a field is read as it is — and absent (`undefined`)
 * on the others, so it can be read on any event and narrowing by `type`
 * tells which may hold it.
 */
interface EventExtras {
  /** Milliseconds the attempt ran (`completed`, `failed`, `retrying`). */
  readonly durationMs?: number;
  /** The error's class name and message (`failed`, `retrying`, `crashed`, `workflow:failed`), the message cut at {@link MAX_EVENT_ERROR_CHARS} characters. */
  readonly error?: { readonly type: string; readonly message: string };
  /** The task's latest progress value (`progress`). */
  readonly progress?: JsonValue;
  /**
   * The lines the task logged since the previous `progress` event
   * (`progress`), oldest first, as many of the newest as fit in
   * {@link MAX_EVENT_LOG_CHARS} characters; absent when it logged none.
   */
  readonly logs?: readonly string[];
  /** How many of the lines logged since the previous `progress` event are not in `logs` (read them with `queue.getTask`). */
  readonly logsLeftOut?: number;
  /**
   * The task's result (`completed`; the workflow's, `workflow:completed`), when its JSON takes at most
   * {@link MAX_EVENT_RESULT_CHARS} characters; absent for a task that
   * returned nothing or chained tasks. A longer one is left out
   * (`resultLeftOut`): read it with `queue.getTask`.
   */
  readonly result?: JsonValue;
  /** The result was longer than {@link MAX_EVENT_RESULT_CHARS} characters of JSON, and is not in the event. */
  readonly resultLeftOut?: true;
  /** When it runs next (epoch ms): a scheduled add, a retry, a deferred start. */
  readonly runAt?: number;
}

/** The extra fields each event type may carry (see {@link EventExtras}). */
interface ExtrasByType {
  added: "runAt";
  started: never;
  progress: "progress" | "logs" | "logsLeftOut";
  retrying: "durationMs" | "error" | "runAt";
  completed: "durationMs" | "result" | "resultLeftOut";
  failed: "durationMs" | "error";
  crashed: "error" | "runAt";
  cancelled: never;
  deferred: "runAt";
  interrupted: never;
  "workflow:added": never;
  "workflow:completed": "result" | "resultLeftOut";
  "workflow:failed": "error";
  "workflow:cancelled": never;
  "workflow:retried": never;
  unreadable: never;
}

/** One type's event: the shared fields, its own extras, the others absent. */
type EventOfType<T extends QueueEventType> = EventBase<T> &
  Pick<EventExtras, ExtrasByType[T]> & {
    readonly [K in Exclude<keyof EventExtras, ExtrasByType[T]>]?: undefined;
  };

/**
 * The lifecycle event of a queue of one of the types `T`. Checking `type`
 * narrows it: `if (event.type === "failed") event.error?.message`; reading a
 * field its type never carries gives `undefined`.
 */
export type QueueEventOf<T extends QueueEventType> = T extends QueueEventType
  ? EventOfType<T>
  : never;

/** One lifecycle event of a queue, of any type (see {@link QueueEventOf}). */
export type QueueEvent = QueueEventOf<QueueEventType>;

/**
 * The longest result (characters of JSON) a `completed` event carries. The
 * log keeps thousands of events per queue: a result up to this size saves a
 * listener a read, while a large one would make the log hold every large
 * result again.
 */
export const MAX_EVENT_RESULT_CHARS = 2048;

/**
 * The longest error message (characters) an event carries; a longer one is
 * cut to this length and ends with "…". A task keeps up to 8,000 characters
 * of its error, and a burst of failures would otherwise make the log hold
 * each of them again: read the whole message with `queue.getTask`.
 */
export const MAX_EVENT_ERROR_CHARS = 2048;

/**
 * The most characters of log lines one `progress` event carries: the newest
 * lines logged since the previous write that fit, a single longer line cut
 * to this length (ending with "…"). A task keeps its last 100 lines of up to
 * 2,000 characters each on its record; the log carries what is new, bounded
 * like an error message.
 */
export const MAX_EVENT_LOG_CHARS = 4096;

/** The new lines a `progress` event carries (see {@link MAX_EVENT_LOG_CHARS}), and how many it leaves out. */
function eventLogLines(lines: readonly string[]): { carried: string[]; leftOut: number } {
  const carried: string[] = [];
  let room = MAX_EVENT_LOG_CHARS;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.length <= room) {
      carried.push(line);
      room -= line.length;
    } else {
      if (carried.length === 0) carried.push(`${line.slice(0, MAX_EVENT_LOG_CHARS - 1)}…`);
      break;
    }
  }
  return { carried: carried.reverse(), leftOut: lines.length - carried.length };
}

/** An error message as an event carries it (see {@link MAX_EVENT_ERROR_CHARS}). */
function eventErrorMessage(message: string): string {
  return message.length <= MAX_EVENT_ERROR_CHARS
    ? message
    : `${message.slice(0, MAX_EVENT_ERROR_CHARS - 1)}…`;
}

/** Event types a writer can write (not `unreadable`). */
export type WrittenEventType = Exclude<QueueEventType, "unreadable">;

/** Every event type a writer writes. */
export const WRITTEN_EVENT_TYPES: readonly WrittenEventType[] = [
  "added",
  "started",
  "progress",
  "retrying",
  "completed",
  "failed",
  "crashed",
  "cancelled",
  "deferred",
  "interrupted",
  "workflow:added",
  "workflow:completed",
  "workflow:failed",
  "workflow:cancelled",
  "workflow:retried",
];

const WRITTEN: ReadonlySet<string> = new Set(WRITTEN_EVENT_TYPES);

/** Every event type a reader can meet: the written ones and `unreadable`. */
export const QUEUE_EVENT_TYPES: readonly QueueEventType[] = [...WRITTEN_EVENT_TYPES, "unreadable"];

const KNOWN: ReadonlySet<unknown> = new Set(QUEUE_EVENT_TYPES);

/** Whether `value` names an event type (the check behind every filter by type). */
export function isQueueEventType(value: unknown): value is QueueEventType {
  return KNOWN.has(value);
}

function instant(iso: string | null): number | undefined {
  if (iso === null) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The `completed` body's result member: none for no result, chained tasks or
 * a workflow's resume (its result is the workflow's own bookkeeping); `vx`
 * for one too long.
 */
function resultExtra(record: TaskData): string {
  if (record.resultKind !== undefined || isResumeTaskName(record.name)) return "";
  return resultMember(record.result);
}

/** `,"v":<result>` when `result` is one and fits the bound, `,"vx":1` when it is too long. */
function resultMember(result: JsonValue | null | undefined): string {
  if (result === null || result === undefined) return "";
  const json = JSON.stringify(result);
  return json.length <= MAX_EVENT_RESULT_CHARS ? `,"v":${json}` : `,"vx":1`;
}

/** When `record` runs next, if it waits for a time. */
function runAtOf(record: TaskData): number | undefined {
  if (record.status === "retrying") return instant(record.nextRetryAt);
  if (record.status === "scheduled") return instant(record.scheduledAt);
  return undefined;
}

/**
 * The log body of a `type` event about `record` (as it is once the event
 * happened), at `at`, for `attempt` (absent: the attempt the record is on).
 *
 * A body is a JSON array, not an object: `[taskId, type, taskName, attempt,
 * at, status, durationMs, extras]`, where `status` is `null` when it is the
 * type's own name (`completed`, `failed`…), and the two last members are
 * left out when empty (`extras`: `e` the error, `p` the progress value, `l`
 * the new log lines and `lx` how many were left out, `r`
 * when it runs next, `v` the result or `vx` a result left out for its size). The log holds two or three bodies per task, each
 * sent with the settle or add that carries it; without member names a body
 * is about half the size — fewer bytes for a worker to send and for the
 * backend to read and keep. Bodies written as objects (by earlier versions)
 * are read too.
 */
export function eventBody(
  type: WrittenEventType,
  record: TaskData,
  at: number,
  extra?: {
    readonly attempt?: number | undefined;
    readonly durationMs?: number | undefined;
    /** Milliseconds before `at` the attempt started, when the body just before it is {@link STARTED_MARK}. */
    readonly startedBefore?: number | undefined;
    /** A `progress` event's log lines added since the previous one. */
    readonly newLines?: readonly string[] | undefined;
  },
): string {
  // Written by hand rather than through JSON.stringify of a list: several bodies per task on a
  // worker's hot path, and this is several times faster.
  // `taskId` first: a dedupe add's event is written without it (see eventBodyWithoutId).
  const status = record.status === type ? "null" : `"${record.status}"`;
  const body = `[${JSON.stringify(record.id)},"${type}",${JSON.stringify(record.name)},${extra?.attempt ?? attemptNumber(record)},${at},${status}`;
  let extras = "";
  if (record.error && (type === "failed" || type === "retrying" || type === "crashed"))
    extras += `,"e":${JSON.stringify([record.error.type, eventErrorMessage(record.error.message)])}`;
  if (type === "progress" && record.progress !== undefined)
    extras += `,"p":${JSON.stringify(record.progress)}`;
  if (type === "progress" && extra?.newLines !== undefined && extra.newLines.length > 0) {
    const { carried, leftOut } = eventLogLines(extra.newLines);
    extras += `,"l":${JSON.stringify(carried)}`;
    if (leftOut > 0) extras += `,"lx":${leftOut}`;
  }
  if (type === "completed") extras += resultExtra(record);
  const runAt = runAtOf(record);
  if (runAt !== undefined) extras += `,"r":${runAt}`;
  if (extra?.startedBefore !== undefined) extras += `,"s":${extra.startedBefore}`;
  const durationMs = extra?.durationMs === undefined ? "null" : `${Math.round(extra.durationMs)}`;
  if (extras !== "") return `${body},${durationMs},{${extras.slice(1)}}]`;
  return durationMs === "null" ? `${body}]` : `${body},${durationMs}]`;
}

/**
 * The body that stands for the `started` event of the attempt whose end is
 * the next body in the log. Most attempts end within moments of starting,
 * and their settle appends both events in one step; the end's body already
 * names the task and the attempt, so the start is written as this one
 * character and the end says how long before it the attempt started (`s`).
 * A task's events are the log's largest share of a worker's writes, and
 * this one was its largest body. A `started` appended on its own (an
 * attempt still running after a moment) is a whole body.
 */
export const STARTED_MARK = "^";

/** A position in the log and the body it holds, as a backend's `readEvents` returns them. */
export interface LoggedBody {
  readonly id: string;
  readonly body: string;
}

/**
 * The `started` event written as {@link STARTED_MARK} at `id`, read from
 * `next`, the body after it (the end of the same attempt); an `unreadable`
 * event when there is none or it says no start.
 */
function readStartedMark(queue: string, id: string, next: string | undefined): QueueEvent {
  const end = next === undefined ? {} : fieldsOf(next);
  const startedBefore = finite(end.startedBefore);
  const at = finite(end.at);
  if (!WRITTEN.has(text(end.type)) || startedBefore === undefined || at === undefined)
    return {
      id,
      type: "unreadable",
      queue,
      taskId: "",
      taskName: "",
      attempt: 0,
      at: 0,
      status: "" as TaskStatus,
    };
  return {
    id,
    type: "started",
    queue,
    taskId: text(end.taskId),
    taskName: text(end.taskName),
    attempt: finite(end.attempt) ?? 0,
    at: at - startedBefore,
    status: "processing",
  };
}

/**
 * The events a page of the log holds, in order. A {@link STARTED_MARK} is
 * read from the body after it: the page's next one, or `following` (the
 * body after the page) when it is the page's last.
 */
export function readEventPage(
  queue: string,
  page: readonly LoggedBody[],
  following?: LoggedBody,
): QueueEvent[] {
  return page.map(({ id, body }, i) =>
    body === STARTED_MARK
      ? readStartedMark(queue, id, (page[i + 1] ?? following)?.body)
      : readEvent(queue, id, body),
  );
}

/** Whether a page of the log ends with a {@link STARTED_MARK}, which needs the body after the page to be read. */
export function endsWithStartedMark(page: readonly LoggedBody[]): boolean {
  return page.length > 0 && page[page.length - 1]!.body === STARTED_MARK;
}

/** The event types about a workflow itself. */
export type WorkflowEventType = Extract<WrittenEventType, `workflow:${string}`>;

/**
 * The log body of a workflow's own event (see {@link eventBody}): the
 * workflow's id, name and status, and its error when it failed.
 */
export function workflowEventBody(
  type: WorkflowEventType,
  record: WorkflowData,
  at: number,
): string {
  // Its attempt: the run of the workflow, one more for each retry of it.
  const attempt = (record.retryCount ?? 0) + 1;
  const body = `[${JSON.stringify(record.id)},"${type}",${JSON.stringify(record.name)},${attempt},${at},"${record.status}"`;
  if (type === "workflow:failed" && record.error)
    return `${body},null,{"e":${JSON.stringify([record.error.type, eventErrorMessage(record.error.message)])}}]`;
  const result = type === "workflow:completed" ? resultMember(record.result) : "";
  if (result !== "") return `${body},null,{${result.slice(1)}}]`;
  return `${body}]`;
}

/** The workflow event of a record a write finishes, by its status; none while it runs. */
export function finishedWorkflowEvent(record: WorkflowData, at: number): string | undefined {
  if (record.status === "running") return undefined;
  return workflowEventBody(`workflow:${record.status}`, record, at);
}

/**
 * The body of an `added` event about a task whose id only the backend will
 * know (a dedupe add may replace another task's record): the body without
 * its first member, `taskId`, which the backend writes in front (see
 * `keyedEventBody` in `../backends/event-positions.ts`).
 */
export function eventBodyWithoutId(record: TaskData, at: number): string {
  const body = eventBody("added", record, at);
  // eventBody writes `taskId` as its first member: drop `[<id>,`.
  return body.slice(`[${JSON.stringify(record.id)},`.length);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The members of a body written as a list (see {@link eventBody}) under the names an object body uses. */
function fieldsOfList(list: readonly unknown[]): Record<string, unknown> {
  const extras = list[7];
  const more =
    extras !== null && typeof extras === "object" && !Array.isArray(extras)
      ? (extras as Record<string, unknown>)
      : {};
  const error = Array.isArray(more.e) ? { type: more.e[0], message: more.e[1] } : undefined;
  return {
    taskId: list[0],
    type: list[1],
    taskName: list[2],
    attempt: list[3],
    at: list[4],
    status: list[5] ?? list[1],
    durationMs: list[6],
    ...(error ? { error } : {}),
    ...("p" in more ? { progress: more.p } : {}),
    logs: more.l,
    logsLeftOut: more.lx,
    ...("v" in more ? { result: more.v } : {}),
    ...(more.vx === 1 ? { resultLeftOut: true } : {}),
    runAt: more.r,
    startedBefore: more.s,
  };
}

/** A body's members by name, whether written as a list or (by earlier versions) as an object; none when it is neither. */
function fieldsOf(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (Array.isArray(parsed)) return fieldsOfList(parsed);
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
}

/**
 * The extra fields each type carries, as data: what {@link readEvent} keeps
 * of a body. A field a body holds for a type that never carries it (written
 * by hand, or damaged) is left out, so an event is what its type says.
 */
const EXTRAS_BY_TYPE: { readonly [T in QueueEventType]: readonly ExtrasByType[T][] } = {
  added: ["runAt"],
  started: [],
  progress: ["progress", "logs", "logsLeftOut"],
  retrying: ["durationMs", "error", "runAt"],
  completed: ["durationMs", "result", "resultLeftOut"],
  failed: ["durationMs", "error"],
  crashed: ["error", "runAt"],
  cancelled: [],
  deferred: ["runAt"],
  interrupted: [],
  "workflow:added": [],
  "workflow:completed": ["result", "resultLeftOut"],
  "workflow:failed": ["error"],
  "workflow:cancelled": [],
  "workflow:retried": [],
  unreadable: [],
};

/** The event a log entry holds; a body that is not one is an `unreadable` event at its position. */
export function readEvent(queue: string, id: string, body: string): QueueEvent {
  const fields = fieldsOf(body);
  const type = WRITTEN.has(text(fields.type)) ? (fields.type as WrittenEventType) : "unreadable";
  const event: {
    -readonly [K in keyof (EventBase<QueueEventType> & EventExtras)]: (EventBase<QueueEventType> &
      EventExtras)[K];
  } = {
    id,
    type,
    queue,
    taskId: text(fields.taskId),
    taskName: text(fields.taskName),
    attempt: finite(fields.attempt) ?? 0,
    at: finite(fields.at) ?? 0,
    status: text(fields.status) as TaskStatus,
  };
  const carries: readonly (keyof EventExtras)[] = EXTRAS_BY_TYPE[type];
  if (carries.length === 0) return event as unknown as QueueEvent;
  const durationMs = finite(fields.durationMs);
  if (durationMs !== undefined && carries.includes("durationMs")) event.durationMs = durationMs;
  const error = fields.error as Record<string, unknown> | null | undefined;
  if (error && typeof error === "object" && carries.includes("error"))
    event.error = { type: text(error.type), message: text(error.message) };
  if ("progress" in fields && carries.includes("progress"))
    event.progress = fields.progress as JsonValue;
  if (Array.isArray(fields.logs) && carries.includes("logs"))
    event.logs = fields.logs.filter((l) => typeof l === "string");
  const logsLeftOut = finite(fields.logsLeftOut);
  if (logsLeftOut !== undefined && logsLeftOut > 0 && carries.includes("logsLeftOut"))
    event.logsLeftOut = logsLeftOut;
  if ("result" in fields && carries.includes("result")) event.result = fields.result as JsonValue;
  if (fields.resultLeftOut === true && carries.includes("resultLeftOut"))
    event.resultLeftOut = true;
  const runAt = finite(fields.runAt);
  if (runAt !== undefined && carries.includes("runAt")) event.runAt = runAt;
  // Only the fields `type` carries were set above: the event is its type's.
  return event as unknown as QueueEvent;
}
