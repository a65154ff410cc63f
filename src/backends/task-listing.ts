/**
 * @module backends/task-listing
 * What every backend's `listTasks` shares, so they list alike: the order
 * (newest first by creation time, ties by id), the cursor, and the checks of
 * a request. A place in the order is a {@link ListPosition}; a cursor is one
 * encoded as text, and a walk resumes strictly after it, so a cursor stays
 * good however the queue changes — even when the record it names is gone.
 */
import { msOfIso } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import { TASK_STATUSES, type TaskData, type TaskStatus } from "../task/task-record.js";
import type { ListTasksRequest } from "./backend.js";

/** Records per page when a request names no `limit`. */
export const DEFAULT_LIST_LIMIT = 100;

/**
 * Index entries one `listTasks` call looks at, at most (or `limit`, when
 * more): a status few records have costs bounded work per page, and the
 * caller follows the cursor instead of one call walking the whole queue.
 */
export const LIST_SCAN_BUDGET = 5000;

/** Longest cursor text accepted: far above any real one, so hostile input is refused before it is decoded. */
const MAX_CURSOR_LENGTH = 8192;
/** Creation times a cursor may carry: those a `Date` can hold. */
const MAX_TIME = 8.64e15;
const CURSOR = /^(-?\d{1,16})\.([A-Za-z0-9_-]+)$/;
const STATUSES: ReadonlySet<string> = new Set(TASK_STATUSES);

/** A place in the listing order: a record's creation time (epoch ms) and id. */
export interface ListPosition {
  readonly at: number;
  readonly id: string;
}

/**
 * The creation time (epoch ms) a record is listed by: its `createdAt`, or 0
 * when that does not name a real instant (such a record is listed last).
 */
export function creationTimeOf(record: TaskData): number {
  const at = msOfIso(record.createdAt);
  return Number.isFinite(at) ? at : 0;
}

const isSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdfff;

/**
 * Orders ids by code point, which is the order of their UTF-8 bytes — the
 * order Redis gives members of a sorted set with equal scores — so every
 * backend breaks ties between records created in the same millisecond alike.
 */
export function compareTaskIds(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate starts a code point above every other UTF-16 unit's.
    const xs = isSurrogate(x);
    if (xs !== isSurrogate(y)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Oldest first: by creation time, then by id. `listTasks` walks this order backwards. */
export function comparePositions(a: ListPosition, b: ListPosition): number {
  return a.at - b.at || compareTaskIds(a.id, b.id);
}

/** The cursor naming `position`: `<creation ms>.<id as base64url UTF-8>`, safe in a URL as it is. */
export function encodeListCursor(position: ListPosition): string {
  return `${Math.trunc(position.at)}.${Buffer.from(position.id, "utf8").toString("base64url")}`;
}

/** A short, one-line, printable quote of untrusted text for an error message. */
function quote(text: string): string {
  const head = text.length > 24 ? `${text.slice(0, 24)}…` : text;
  return JSON.stringify(head).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The position `cursor` names; `InvalidOptionError` (one line) when it is not a cursor `listTasks` returned. */
export function decodeListCursor(cursor: unknown): ListPosition {
  const position = typeof cursor === "string" ? parseCursor(cursor) : null;
  if (position) return position;
  const given = typeof cursor === "string" ? quote(cursor) : `a value of type ${typeof cursor}`;
  throw new InvalidOptionError(
    `listTasks: invalid cursor ${given}; pass back the cursor an earlier page returned, or none to start`,
  );
}

/** Whether `text` is a well-formed `listTasks` cursor. */
export function isListCursor(text: string): boolean {
  return parseCursor(text) !== null;
}

function parseCursor(text: string): ListPosition | null {
  if (text.length > MAX_CURSOR_LENGTH) return null;
  const match = CURSOR.exec(text);
  if (!match) return null;
  const at = Number(match[1]);
  if (!Number.isSafeInteger(at) || Math.abs(at) > MAX_TIME) return null;
  const id = Buffer.from(match[2]!, "base64url").toString("utf8");
  // Only a cursor's own text decodes: not another spelling of its number or base64, nor bytes that
  // are not UTF-8, nor an id no task can have (ids never hold NUL).
  if (id === "" || id.includes("\u0000") || encodeListCursor({ at, id }) !== text) return null;
  return { at, id };
}

/** A `listTasks` request, checked: where to resume, how many, which statuses (`null`: any), how far to look. */
export interface ListPlan {
  readonly after: ListPosition | null;
  readonly limit: number;
  readonly statuses: ReadonlySet<TaskStatus> | null;
  /** Index entries to look at, at most. */
  readonly budget: number;
}

/** Checks a `listTasks` request; anything wrong is an `InvalidOptionError` saying what. */
export function checkListRequest(request: ListTasksRequest | undefined): ListPlan {
  const { cursor, limit = DEFAULT_LIST_LIMIT, statuses } = request ?? {};
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    const got = typeof limit === "number" ? String(limit) : `a value of type ${typeof limit}`;
    throw new InvalidOptionError(`listTasks: limit must be an integer ≥ 1 (got ${got})`);
  }
  let wanted: Set<TaskStatus> | null = null;
  if (statuses !== undefined) {
    if (!Array.isArray(statuses)) {
      throw new InvalidOptionError(
        `listTasks: statuses must be a list of task statuses (got a value of type ${typeof statuses})`,
      );
    }
    wanted = new Set();
    for (const status of statuses as readonly unknown[]) {
      if (typeof status !== "string" || !STATUSES.has(status)) {
        const got = typeof status === "string" ? quote(status) : `a value of type ${typeof status}`;
        throw new InvalidOptionError(
          `listTasks: unknown status ${got} (one of: ${TASK_STATUSES.join(", ")})`,
        );
      }
      wanted.add(status as TaskStatus);
    }
  }
  return {
    after: cursor === undefined || cursor === null ? null : decodeListCursor(cursor),
    limit,
    statuses: wanted,
    budget: Math.max(LIST_SCAN_BUDGET, limit),
  };
}
