/**
 * @module queue/dedupe-options
 * The options of an add that reports what it did — a dedupe key, a
 * caller-chosen id — and their checks. Each check throws a one-line
 * `InvalidOptionError` naming the call and the option.
 */
import type { DedupeMode, DedupeOutcome } from "../backends/backend.js";
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { isDuration, MAX_DURATION_TEXT } from "../util/durations.js";
import { loneSurrogateProblem } from "../util/lone-surrogate.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";

/** Adds the same key makes into one task: see docs/dedupe.md. */
export interface DedupeOptions {
  /** The key (1–256 characters, no control characters); tasks of one queue sharing it are deduplicated. */
  key: string;
  /**
   * `ignore` (default): while a task holding the key is unfinished, the add
   * does nothing and reports that task. `replace`: while that task waits to
   * be claimed, the add replaces its arguments, options, priority and time,
   * keeping its id (a debounce); once it has started, the add adds a new task.
   */
  mode?: DedupeMode | undefined;
  /**
   * `ignore` only: seconds the key holds from the add that took it, even
   * after its task has finished (a throttle); once they pass, the next add
   * adds a new task even while the first still runs.
   */
  window?: number | undefined;
}

/** What an add with `dedupe` or `id` did, and the id of the task that holds the key (or the id) now. */
export interface AddResult {
  outcome: DedupeOutcome;
  id: string;
}

/** The longest caller-chosen id. */
export const MAX_TASK_ID_LENGTH = 128;
/** The longest dedupe key. */
export const MAX_DEDUPE_KEY_LENGTH = 256;

// The characters of queue names: safe in keys, file names and URL paths alike.
const TASK_ID = /^[A-Za-z0-9_.:-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Words the HTTP API's task paths use after `/{queue}/tasks/` (lists and
 * queue-wide actions). A task with one of them as its id could not be read,
 * retried or deleted over HTTP, so no caller may choose them.
 */
export const RESERVED_TASK_IDS: ReadonlySet<string> = new Set([
  "pending",
  "scheduled",
  "schedule",
  "clear",
  "retry",
  "cancel",
  "delete",
]);

/** What a caller-chosen task id must be, for messages that name where it came from. */
export const TASK_ID_RULE = `1–${MAX_TASK_ID_LENGTH} ASCII letters, digits, '_', '.', ':' or '-' (not '.' or '..' alone, nor ${[...RESERVED_TASK_IDS].map((word) => `'${word}'`).join(", ")}: words of the HTTP API's paths)`;

/** Whether `id` is a valid caller-chosen task id (see {@link TASK_ID_RULE}). */
export function isTaskId(id: unknown): id is string {
  return (
    typeof id === "string" &&
    id.length > 0 &&
    id.length <= MAX_TASK_ID_LENGTH &&
    TASK_ID.test(id) &&
    id !== "." &&
    id !== ".." &&
    !RESERVED_TASK_IDS.has(id)
  );
}

/** A caller-chosen task id, checked: 1–128 ASCII letters, digits, `_ . : -`, not `.` or `..` alone. */
export function checkTaskId(id: unknown, where: string): string {
  if (!isTaskId(id)) {
    throw new InvalidOptionError(`${where}: id must be ${TASK_ID_RULE}; got ${describe(id)}`);
  }
  return id;
}

/** A dedupe key, checked: 1–256 characters, none a control character. */
export function checkDedupeKey(key: unknown, where: string): string {
  if (
    typeof key !== "string" ||
    key.length === 0 ||
    key.length > MAX_DEDUPE_KEY_LENGTH ||
    CONTROL.test(key)
  ) {
    throw new InvalidOptionError(
      `${where}: dedupe.key must be 1–${MAX_DEDUPE_KEY_LENGTH} characters without control characters; got ${describe(key)}`,
    );
  }
  const halves = loneSurrogateProblem(key);
  if (halves !== null) throw new InvalidOptionError(`${where}: dedupe.key ${halves}`);
  return key;
}

/** The checked dedupe options: key, mode and window in ms (`null`: none). */
export interface CheckedDedupe {
  readonly key: string;
  readonly mode: DedupeMode;
  readonly windowMs: number | null;
}

const DEDUPE_OPTION_KEYS = ["key", "mode", "window"];

/** Checks `dedupe` as given to `where` (e.g. "queue.add()"). */
export function checkDedupe(dedupe: unknown, where: string): CheckedDedupe {
  if (typeof dedupe !== "object" || dedupe === null || Array.isArray(dedupe)) {
    throw new InvalidOptionError(
      `${where}: dedupe must be an object { key, mode?, window? }; got ${describe(dedupe)}`,
    );
  }
  // A misspelt `window` would turn a throttle into a plain "ignore" without a word.
  const unknown = unknownKeysMessage(dedupe, DEDUPE_OPTION_KEYS);
  if (unknown) throw new InvalidOptionError(`${where}: dedupe has ${unknown}`);
  const { key, mode = "ignore", window } = dedupe as DedupeOptions;
  const checkedKey = checkDedupeKey(key, where);
  if (mode !== "ignore" && mode !== "replace") {
    throw new InvalidOptionError(
      `${where}: dedupe.mode must be 'ignore' or 'replace'; got ${describe(mode)}`,
    );
  }
  if (window === undefined) return { key: checkedKey, mode, windowMs: null };
  if (mode === "replace") {
    throw new InvalidOptionError(
      `${where}: dedupe.window applies to mode 'ignore' only (a replace debounces while the task waits, it has no window)`,
    );
  }
  if (!isDuration(window, false)) {
    throw new InvalidOptionError(
      `${where}: dedupe.window must be a number of seconds > 0 and ${MAX_DURATION_TEXT}; got ${describe(window)}`,
    );
  }
  // At least a millisecond: a window that rounds to nothing would hold nothing.
  return { key: checkedKey, mode, windowMs: Math.max(1, Math.round(window * 1000)) };
}

/** A value as a message shows it: short, on one line; never throws (an object whose `toString` is not a function is described too). */
function describe(value: unknown): string {
  const text = describeGiven(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
