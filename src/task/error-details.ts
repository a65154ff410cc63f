/**
 * @module task/error-details
 * The parts of a thrown error beyond its type, message and stack: its own
 * properties (`code`, `statusCode`…) and a validator's `issues`, read as plain
 * JSON. Whatever the error's code does when read, these functions return data
 * and never throw, and they keep at most {@link MAX_DETAILS_TEXT} characters
 * of JSON of each kind, so one failure cannot store megabytes of detail.
 */
import { TaskFailedError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";
import { capText } from "../util/cap-text.js";
import { describeValue, isError, read, readOr } from "./describe-value.js";

/** A validation issue in stored form. */
export interface IssueData {
  message: string;
  path: (string | number)[];
}

/** Characters of JSON kept of an error's properties, all together, and likewise of its issues. */
export const MAX_DETAILS_TEXT = 8_000;
/** Characters kept of one property's value (its JSON, or its description when it is not JSON). */
const MAX_PROP_TEXT = 2_000;
/** Longest property name kept; a longer one is cut. */
const MAX_KEY_TEXT = 100;
/** Own properties looked at: an error with a million of them costs no more than one with a hundred. */
const MAX_KEYS_READ = 100;
/** Entries of an `AggregateError`'s `errors` described, and characters of each. */
const MAX_AGGREGATED = 20;
const MAX_AGGREGATED_TEXT = 500;
/** Issues looked at, characters of an issue's message, and path segments kept (each cut at MAX_KEY_TEXT). */
const MAX_ISSUES_READ = 100;
const MAX_ISSUE_MESSAGE = 1_000;
const MAX_PATH_SEGMENTS = 32;

/** Fields stored on their own, never among the properties. */
const RESERVED: ReadonlySet<string> = new Set(["message", "stack", "cause", "issues", "name"]);

/** Sets `key` as an own property even when it is `__proto__`, which plain assignment would turn into a prototype change. */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** `value` as stored JSON: a JSON copy while it is short, else its text cut short, else its description. */
function storedValue(value: unknown): JsonValue {
  const json = read(() => toJson(value, "value"));
  if (!json.ok) return describeValue(value, MAX_PROP_TEXT);
  if (typeof json.value === "string") return capText(json.value, MAX_PROP_TEXT);
  const text = JSON.stringify(json.value);
  return text.length <= MAX_PROP_TEXT ? json.value : capText(text, MAX_PROP_TEXT);
}

/**
 * The error's own enumerable properties except the fields stored on their own
 * (and those in `omit`), and an `AggregateError`'s `errors` (not enumerable:
 * each error as its type and message, anything else as its description), as JSON; `undefined` when there are none. A property that
 * cannot be read is stored as a note saying so. Once {@link MAX_DETAILS_TEXT}
 * is spent, further properties are left out.
 */
export function propsOf(
  error: Error,
  omit?: ReadonlySet<string>,
): Record<string, JsonValue> | undefined {
  const keys = readOr(() => Object.keys(error), [] as string[]);
  const readers: [string, () => unknown][] = keys
    .slice(0, MAX_KEYS_READ)
    .filter((key) => !RESERVED.has(key) && !omit?.has(key))
    .map((key) => [key, () => (error as unknown as Record<string, unknown>)[key]]);
  if (!keys.includes("errors") && readOr(() => error instanceof AggregateError, false)) {
    readers.push(["errors", () => aggregated(error as AggregateError)]);
  }
  let props: Record<string, JsonValue> | undefined;
  let budget = MAX_DETAILS_TEXT;
  for (const [key, get] of readers) {
    const name = capText(key, MAX_KEY_TEXT);
    if (props && Object.hasOwn(props, name)) continue;
    const value = read(get);
    const stored = value.ok ? storedValue(value.value) : "(a property that could not be read)";
    const cost = JSON.stringify(name).length + JSON.stringify(stored).length + 2;
    if (cost > budget) continue;
    budget -= cost;
    props ??= {};
    setOwn(props, name, stored);
  }
  return props;
}

/** Characters kept of an error's type name. */
const MAX_TYPE_TEXT = 200;

/**
 * An error's type as stored: the type an error rebuilt from stored data was
 * stored with, else its `name` (unless the plain "Error"), else its
 * constructor's name, else "Error".
 */
export function errorTypeOf(error: Error): string {
  if (readOr(() => error instanceof TaskFailedError, false)) {
    const original = readOr(() => (error as TaskFailedError).originalType, undefined);
    if (typeof original === "string" && original !== "") return capText(original, MAX_TYPE_TEXT);
  }
  const name = readOr(() => error.name, undefined);
  if (typeof name === "string" && name !== "" && name !== "Error") {
    return capText(name, MAX_TYPE_TEXT);
  }
  const constructorName = readOr(() => error.constructor?.name, undefined);
  return typeof constructorName === "string" && constructorName !== ""
    ? capText(constructorName, MAX_TYPE_TEXT)
    : "Error";
}

/** An error's message as stored, at most `max` characters, whatever reading it does. */
export function errorMessageOf(error: Error, max: number): string {
  const message = read(() => error.message as unknown);
  if (!message.ok) return "(an error whose message could not be read)";
  if (message.value === undefined) return "";
  return describeValue(message.value, max);
}

/** One error an `AggregateError` gathered, as stored: enough for `toError()` to rebuild it. */
export interface GatheredError {
  type: string;
  message: string;
}

/**
 * The first values an `AggregateError` gathered: each error as its type and
 * message (the `toError()` of the aggregate rebuilds them), anything else
 * as its description.
 */
function aggregated(error: AggregateError): (GatheredError | string)[] {
  const list: unknown = error.errors;
  if (!Array.isArray(list)) return [];
  const gathered = list
    .slice(0, MAX_AGGREGATED)
    .map((item) =>
      isError(item)
        ? { type: errorTypeOf(item), message: errorMessageOf(item, MAX_AGGREGATED_TEXT) }
        : describeValue(item, MAX_AGGREGATED_TEXT),
    );
  // Kept whole as a list (a longer property would be stored as cut text): the later ones go first.
  while (gathered.length > 1 && JSON.stringify(gathered).length > MAX_PROP_TEXT) gathered.pop();
  return gathered;
}

/** Whether `value` is a {@link GatheredError} as {@link propsOf} stores one (stored data may hold anything). */
export function isGatheredError(value: unknown): value is GatheredError {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.type === "string" && typeof entry.message === "string";
}

/**
 * A validator's issues (an `issues` array, as Standard Schema validators
 * report them) with plain paths; `undefined` when the error has no such
 * array. Once {@link MAX_DETAILS_TEXT} is spent, further issues are left out.
 */
export function issuesOf(error: Error): IssueData[] | undefined {
  const list = readOr(() => {
    const issues: unknown = (error as { issues?: unknown }).issues;
    return Array.isArray(issues) ? issues.slice(0, MAX_ISSUES_READ) : undefined;
  }, undefined);
  if (!list) return undefined;
  const stored: IssueData[] = [];
  let budget = MAX_DETAILS_TEXT;
  for (const issue of list) {
    const data: IssueData = { message: issueMessage(issue), path: issuePath(issue) };
    const cost = JSON.stringify(data).length + 1;
    if (cost > budget) break;
    budget -= cost;
    stored.push(data);
  }
  return stored;
}

function issueMessage(issue: unknown): string {
  const message = read(() => (issue as { message?: unknown } | null | undefined)?.message);
  if (!message.ok) return "(an issue whose message could not be read)";
  if (message.value === undefined || message.value === null) return "";
  return describeValue(message.value, MAX_ISSUE_MESSAGE);
}

function issuePath(issue: unknown): (string | number)[] {
  const path = readOr(() => {
    const segments: unknown = (issue as { path?: unknown } | null | undefined)?.path;
    return Array.isArray(segments) ? segments.slice(0, MAX_PATH_SEGMENTS) : [];
  }, [] as unknown[]);
  return path.map(pathSegment);
}

/** A path segment as stored: an index, or text; a `{ key }` segment (Standard Schema's form) by its key. */
function pathSegment(segment: unknown): string | number {
  const key =
    typeof segment === "object" && segment !== null
      ? readOr(() => (segment as { key?: unknown }).key, "(a key that could not be read)")
      : segment;
  // JSON writes -0 as 0, and NaN or Infinity as null: only finite numbers stay numbers.
  if (typeof key === "number" && Number.isFinite(key)) return key === 0 ? 0 : key;
  return describeValue(key, MAX_KEY_TEXT);
}
