/**
 * @module cli/output
 * What commands print on stdout: aligned tables for people (`--format table`)
 * and JSON for scripts (`--format json`, one document per command).
 */

import { fileURLToPath } from "node:url";
import type { JsonValue } from "../json.js";
import { ERROR_STATUSES, type TaskData } from "../task/task-record.js";
import { UNKNOWN_SINCE_META_KEY } from "../task/unknown-since.js";
import type { OutputFormat } from "./env.js";

/** Writes one line (or several) to stdout. */
export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Prints a value as indented JSON. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** A column of a table: its heading and how a row shows in it. */
export interface Column<Row> {
  readonly heading: string;
  readonly value: (row: Row) => string;
}

/** The most characters a cell of a column other than the last shows: one long name must not pad every row. */
const MAX_CELL_CHARS = 200;

/**
 * Renders rows as a table with space-aligned columns and a heading line.
 * Every cell is one line (line breaks and control characters in stored text
 * such as a task's name show as escapes, never reach the terminal), and a
 * cell of any column but the last is cut at {@link MAX_CELL_CHARS}.
 */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const last = columns.length - 1;
  const cell = (text: string, index: number): string => {
    const shown = oneLine(text);
    return index < last && shown.length > MAX_CELL_CHARS
      ? `${shown.slice(0, MAX_CELL_CHARS - 1)}…`
      : shown;
  };
  const cells = [
    columns.map((column) => column.heading),
    ...rows.map((row) => columns.map((column, index) => cell(column.value(row), index))),
  ];
  const widths = columns.map((_, index) =>
    Math.max(...cells.map((line) => (line[index] ?? "").length)),
  );
  return cells
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Prints rows as a table, or as a JSON array of `json(row)`. */
export function printRows<Row>(
  format: OutputFormat,
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  json: (row: Row) => unknown,
  empty: string,
): void {
  if (format === "json") printJson(rows.map(json));
  else print(rows.length === 0 ? empty : renderTable(rows, columns));
}

/** A stored instant as `YYYY-MM-DD HH:MM:SS` (UTC), or `-`. */
export function formatInstant(iso: string | null): string {
  return iso === null ? "-" : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** "0s", "42s", "5m07s", "3h02m", "2d04h": a wait read at a glance. */
export function formatWait(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  if (seconds < 86_400)
    return `${Math.floor(seconds / 3600)}h${two(Math.floor(seconds / 60) % 60)}m`;
  return `${Math.floor(seconds / 86_400)}d${two(Math.floor(seconds / 3600) % 24)}h`;
}

/** A JSON value on one line, cut to `max` characters for tables. */
export function formatJson(value: JsonValue | undefined, max = Number.POSITIVE_INFINITY): string {
  const text = JSON.stringify(value ?? null);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Text with its control characters other than line breaks and tabs (escape,
 * carriage return, bell…) written as `\x1b`-style escapes: stored text (an
 * error message, a log line) never moves the cursor, recolours or clears
 * the terminal it is printed to.
 */
export function visibleControls(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    const control =
      (code < 0x20 && code !== 0x0a && code !== 0x09) || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\x${code.toString(16).padStart(2, "0")}` : char;
  }
  return out;
}

/**
 * Text on one line for a table cell or an error line: each line break, with
 * the indentation after it, becomes ` ⏎ `, and other control characters
 * show as escapes. A message such as a ZodError's (`[` then a JSON list of
 * issues) stays whole and still reads.
 */
export function joinLines(text: string): string {
  return visibleControls(text.trim().replace(/[ \t]*\r?\n\s*/g, " ⏎ "));
}

/** A stored error as `Type: message`, the whole message on one line, or `-`. */
export function formatStoredError(data: TaskData): string {
  if (!data.error) return "-";
  return `${data.error.type}: ${joinLines(data.error.message)}`;
}

/** `error` for a task that ended in it; `last error` for one whose error is an earlier attempt's. */
function errorLabel(data: TaskData): string {
  return data.error && !ERROR_STATUSES.has(data.status) ? "last error" : "error";
}

/** A stored error as `Type: message`, its lines kept (`task info`), or `-`. */
function storedErrorLines(data: TaskData): string[] {
  if (!data.error) return ["-"];
  return `${data.error.type}: ${data.error.message.trimEnd()}`.split(/\r?\n/).map(visibleControls);
}

/** Stack lines `task info` shows in its table (`--format json` has them all). */
const STACK_LINES_SHOWN = 16;
/** Frames shown of each error of the chain, so every cause gets its rows. */
const FRAMES_PER_ERROR = 5;
/** Causes shown below the error itself. */
const CAUSES_SHOWN = 4;
/** Where this copy of Sheppy's own code lives (its `src/` or `dist/`). */
const OWN_CODE = fileURLToPath(new URL("../", import.meta.url));

/**
 * A frame of the user's code: not Node's own, and not Sheppy's — running the
 * task (middleware, timeouts, teardown) takes the same frames in every
 * stack, and they would take the rows the cause needs.
 */
function isUserFrame(line: string): boolean {
  return (
    !line.includes("node:internal") &&
    !line.includes("node:async_hooks") &&
    !line.includes("/node_modules/sheppy/") &&
    !line.includes(OWN_CODE)
  );
}

/**
 * The stored error's stack frames, and each cause's type and message with
 * its frames, as `task info` rows: where the error came from, without
 * `--format json`. The stack's first lines repeat the message, so only its
 * `at …` frames of the user's code are shown, a few per error so that every
 * cause is seen; a stack with no such frames shows none.
 */
function storedStackLines(data: TaskData): string[] {
  const lines: string[] = [];
  let left = 0;
  const frames = (stack: string | null) => {
    const all = (stack ?? "")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.startsWith("at ") && isUserFrame(line));
    left += Math.max(0, all.length - FRAMES_PER_ERROR);
    return all.slice(0, FRAMES_PER_ERROR);
  };
  for (let error = data.error, depth = 0; error; error = error.cause, depth++) {
    if (depth > CAUSES_SHOWN) {
      lines.push("… more causes (--format json prints them)");
      break;
    }
    if (depth > 0) lines.push(`caused by ${error.type}: ${error.message.split(/\r?\n/, 1)[0]}`);
    lines.push(...frames(error.stack));
  }
  if (left > 0) lines.push(`… ${left} more frames (--format json prints them)`);
  if (lines.length <= STACK_LINES_SHOWN) return lines.map(visibleControls);
  return [
    ...lines.slice(0, STACK_LINES_SHOWN).map(visibleControls),
    `… ${lines.length - STACK_LINES_SHOWN} more lines (--format json prints them)`,
  ];
}

/** Inner errors `task info` shows of an `AggregateError` (`Promise.any`'s, say). */
const INNER_ERRORS_SHOWN = 5;

/**
 * An aggregate's inner errors, kept in the stored error's `props.errors`
 * (type and message each), one row each: what `Promise.any` or a batch
 * gave up on, without `--format json`.
 */
function innerErrorLines(data: TaskData): string[] {
  const inner = data.error?.props?.errors;
  if (!Array.isArray(inner) || inner.length === 0) return [];
  const line = (item: unknown, i: number) => {
    const { type, message } = (item ?? {}) as { type?: unknown; message?: unknown };
    const text =
      typeof type === "string" && typeof message === "string"
        ? `${type}: ${message.split(/\r?\n/, 1)[0]}`
        : JSON.stringify(item);
    return visibleControls(`${i + 1}. ${text}`);
  };
  const shown = inner.slice(0, INNER_ERRORS_SHOWN).map(line);
  if (inner.length > INNER_ERRORS_SHOWN) {
    shown.push(`… ${inner.length - INNER_ERRORS_SHOWN} more (--format json prints them)`);
  }
  return shown;
}

/** Columns of `task list`. */
export const TASK_COLUMNS: readonly Column<TaskData>[] = [
  { heading: "ID", value: (t) => t.id },
  { heading: "NAME", value: (t) => t.name },
  // Put back by workers that do not define its name, a task reads `scheduled` as if someone had put it off.
  {
    heading: "STATUS",
    value: (t) => (unknownNameSince(t) === undefined ? t.status : `${t.status} (unknown name)`),
  },
  { heading: "CREATED", value: (t) => formatInstant(t.createdAt) },
  { heading: "DUE", value: (t) => formatInstant(dueAt(t)) },
  { heading: "FINISHED", value: (t) => formatInstant(t.finishedAt) },
  // Retries by hand are added after a "+": "1+2" is one automatic retry and two by hand.
  {
    heading: "RETRIES",
    value: (t) =>
      t.manualRetryCount ? `${t.retryCount}+${t.manualRetryCount}` : String(t.retryCount),
  },
  {
    heading: "RESULT / ERROR",
    // Only a completed task has a result: any other shows `-`, not `null` (a retrying one its last error).
    value: (t) =>
      t.error ? formatStoredError(t) : t.status === "completed" ? formatJson(t.result, 40) : "-",
  },
];

const PRIORITY_COLUMN: Column<TaskData> = { heading: "PRIORITY", value: (t) => String(t.priority) };

/**
 * What a pending task's key is doing: how many of its tasks run now (their
 * ids, the first few), and whether that fills the key, so the task waits for
 * a slot — the answer to "why does this tenant's task not run?".
 */
function keyRunningText(running: readonly string[], limit: number): string {
  if (running.length === 0) return "; none of the key's tasks runs now";
  const shown = running.slice(0, 3).join(", ") + (running.length > 3 ? ", …" : "");
  const full = running.length >= limit ? ": it waits for one of their slots" : "";
  return `; ${running.length}${running.length > limit ? "+" : ""} of the key's tasks running now (${shown})${full}`;
}

/** A concurrency key on one table row: control characters shown, a long one cut. */
const KEY_COLUMN: Column<TaskData> = {
  heading: "KEY",
  value: (t) => (t.concurrencyKey === null ? "-" : visibleControls(capKey(t.concurrencyKey))),
};

/** The most characters of a concurrency key a table row shows. */
const KEY_CHARS = 40;

const capKey = (key: string): string => {
  const characters = [...key];
  return characters.length <= KEY_CHARS ? key : `${characters.slice(0, KEY_CHARS - 1).join("")}…`;
};

const STARTED_COLUMN: Column<TaskData> = {
  heading: "STARTED",
  value: (t) => formatInstant(t.startedAt),
};

/**
 * The columns of a task table: {@link TASK_COLUMNS}, with PRIORITY after
 * STATUS when any of `rows` has a priority other than 0, and KEY (the
 * concurrency key: a tenant's, say) after them when any has one — a queue
 * that uses neither keeps its table narrow. When any row is running,
 * STARTED follows CREATED, and `heartbeat` (a running task's claim, by id)
 * adds HEARTBEAT after it.
 */
export function taskColumns(
  rows: readonly TaskData[],
  heartbeat?: Column<TaskData>,
): readonly Column<TaskData>[] {
  const extra = [
    ...(rows.some((t) => t.priority !== 0) ? [PRIORITY_COLUMN] : []),
    ...(rows.some((t) => t.concurrencyKey !== null) ? [KEY_COLUMN] : []),
  ];
  const running = rows.some((t) => t.status === "processing")
    ? [STARTED_COLUMN, ...(heartbeat ? [heartbeat] : [])]
    : [];
  if (extra.length === 0 && running.length === 0) return TASK_COLUMNS;
  const at = TASK_COLUMNS.findIndex((column) => column.heading === "STATUS") + 1;
  const created = TASK_COLUMNS.findIndex((column) => column.heading === "CREATED") + 1;
  return [
    ...TASK_COLUMNS.slice(0, at),
    ...extra,
    ...TASK_COLUMNS.slice(at, created),
    ...running,
    ...TASK_COLUMNS.slice(created),
  ];
}

/** When a waiting task is due: a scheduled task's time (also a rate limit's slot), a retry's time. */
function dueAt(t: TaskData): string | null {
  if (t.status === "scheduled") return t.scheduledAt;
  if (t.status === "retrying") return t.nextRetryAt;
  return null;
}

/** Log lines `task info` shows in its table. */
const LOG_LINES_SHOWN = 10;

/** A log line on one table row: line breaks and tabs shown as `\n` and `\t`. */
function oneLine(text: string): string {
  return visibleControls(text.replace(/\n/g, "\\n").replace(/\t/g, "\\t"));
}

/** The most characters of a JSON value (arguments, result, progress) `task info` shows in its table. */
export const DETAIL_JSON_CHARS = 2000;

/**
 * A JSON value on one `task info` row: a long one (a payload of megabytes)
 * cut, saying how long it is and where to read it whole.
 */
export function detailJson(value: JsonValue | undefined): string {
  const text = JSON.stringify(value ?? null);
  if (text.length <= DETAIL_JSON_CHARS) return text;
  return `${text.slice(0, DETAIL_JSON_CHARS - 1)}… (${text.length.toLocaleString("en-US")} characters in all; --format json prints them)`;
}

/** `task info` as `field  value` lines; `claim` describes a running task's heartbeat and the worker holding it. */
export function renderTaskDetail(
  data: TaskData,
  queue: string,
  claim: {
    heartbeat?: string | undefined;
    worker?: string | undefined;
    /** For a pending task with a concurrency key: the ids of its key's tasks running now. */
    keyRunning?: readonly string[] | undefined;
    /** For a task put back for its unknown name: what the workers running the queue's tasks say of it. */
    definers?: string | undefined;
  } = {},
): string {
  const { heartbeat, worker, keyRunning, definers } = claim;
  const rows: [string, string][] = [
    ["id", data.id],
    ["name", data.name],
    ["queue", queue],
    ["status", data.status],
    ["args", detailJson(data.args)],
    ["result", detailJson(data.result)],
    // Every line of the message, each on a row of its own under the first. A task that has not
    // failed (retrying, re-queued, running again, completed on a later attempt) keeps the error of
    // an earlier attempt: labelled so, it is not read as the task's own outcome.
    ...storedErrorLines(data).map((line, i): [string, string] => [
      i === 0 ? errorLabel(data) : "",
      oneLine(line),
    ]),
    ...innerErrorLines(data).map((line, i): [string, string] => [
      i === 0 ? "errors" : "",
      oneLine(line),
    ]),
    ...storedStackLines(data).map((line, i): [string, string] => [
      i === 0 ? "stack" : "",
      oneLine(line),
    ]),
    ["created", formatInstant(data.createdAt)],
    ["scheduled", formatInstant(data.scheduledAt)],
    ["started", formatInstant(data.startedAt)],
    ...(heartbeat === undefined ? [] : [["heartbeat", heartbeat] as [string, string]]),
    ...(worker === undefined ? [] : [["worker", worker] as [string, string]]),
    ["finished", formatInstant(data.finishedAt)],
    ["retries", describeRetries(data)],
    // The record keeps the time of its last retry after it ran; only a waiting retry is "next".
    ["next retry", formatInstant(data.status === "retrying" ? data.nextRetryAt : null)],
  ];
  if (data.priority !== 0) rows.push(["priority", String(data.priority)]);
  if (data.dedupeKey) rows.push(["dedupe key", JSON.stringify(data.dedupeKey)]);
  if (data.concurrencyKey !== null) {
    const limit = data.concurrencyLimit ?? 1;
    rows.push([
      "concurrency",
      `key ${JSON.stringify(data.concurrencyKey)}, limit ${limit}${keyRunning === undefined ? "" : keyRunningText(keyRunning, limit)}`,
    ]);
  }
  const unknownSince = unknownNameSince(data);
  if (unknownSince !== undefined) {
    // Put back by workers that do not define it: its `scheduled` is the next put-back, not when it was due.
    rows.push([
      "unknown since",
      `${formatInstant(unknownSince)}: workers that claimed it do not define '${data.name}'; it fails with UnknownTaskError once the unknown-task grace is over${definers === undefined ? "" : `; ${definers}`}`,
    ]);
  }
  if (data.cronId) rows.push(["cron", data.cronId]);
  if (data.workflowId) rows.push(["workflow", data.workflowId]);
  if (data.progress !== undefined) rows.push(["progress", detailJson(data.progress)]);
  // The latest lines, oldest first (`--format json` has every line kept).
  const logs = data.logs ?? [];
  logs.slice(-LOG_LINES_SHOWN).forEach((line, i, shown) => {
    const label =
      i > 0
        ? ""
        : logs.length > shown.length
          ? `log (last ${shown.length} of ${logs.length})`
          : "log";
    rows.push([label, oneLine(line)]);
  });
  return renderTable(rows, [
    { heading: "FIELD", value: (row) => row[0] },
    { heading: "VALUE", value: (row) => row[1] },
  ]);
}

function describeRetries(data: TaskData): string {
  const automatic = `${data.retryCount} of ${data.config.retry}`;
  const manual = data.manualRetryCount ?? 0;
  return manual === 0 ? automatic : `${automatic}, and ${manual} by hand`;
}

/** Since when workers that claimed an unfinished task have put it back for not defining its name. */
export function unknownNameSince(data: TaskData): string | undefined {
  const since = data.finishedAt === null ? data.meta?.[UNKNOWN_SINCE_META_KEY] : undefined;
  return typeof since === "string" ? since : undefined;
}
