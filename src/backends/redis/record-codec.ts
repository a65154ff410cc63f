/**
 * @module backends/redis/record-codec
 * A task hash holds the record JSON (`d`) plus the few fields scripts change
 * without re-encoding it (`status`, `startedAt`, `finishedAt`). Reading
 * merges them; a record that does not decode, or is not the record of the
 * key it is stored under, is read as the `failed` stand-in the shared codec
 * makes (`task/task-codec.ts`). What a script needs to know about where a
 * record goes comes from the shared routing (`../record-route.ts`).
 */
import { isoAt } from "../../clock.js";
import {
  COMPACT_RECORD_VERSION,
  INSTANT_FIELDS,
  type StoredFormOptions,
} from "../../task/compact-record.js";
import { encodeCompactTaskData, malformedRecord, readStoredRecord } from "../../task/task-codec.js";
import { TASK_STATUSES, type TaskData, type TaskStatus } from "../../task/task-record.js";
import type { ClaimedTask } from "../backend.js";
import type { RecordRoute } from "../record-route.js";

export interface StoredFields {
  status?: string | null | undefined;
  startedAt?: string | null | undefined;
  finishedAt?: string | null | undefined;
}

/**
 * The version of a task hash's JSON in its keyed form: the compact form
 * (version 3) without the fields the hash keeps beside it — the id (in the
 * key), the status, and, as a settle writes it, `startedAt` and `finishedAt`
 * — and with its instants as epoch milliseconds where they read back the same.
 * Without them a small task's JSON fits Redis's compact hash encoding
 * (listpack: values up to 64 bytes by default), which takes about half the
 * memory of the table a longer value turns the hash into. Versions before
 * it did not know it and read it as a `failed` record. From this one on, a
 * process claims only from queues whose `{p:q}:records` key (see `./keys.ts`)
 * names no newer version: a version that raises this number must set that
 * key on a queue before it writes its first record of the new form there.
 */
export const KEYED_RECORD_VERSION = 4;

const STATUSES: ReadonlySet<string> = new Set(TASK_STATUSES);

/** The farthest instant a `Date` holds (ECMAScript's limit), in ms either side of 1970. */
const MAX_EPOCH_MS = 8.64e15;

/** Every keyed record leaves out its id and status, and writes its instants as numbers. */
const KEYED: StoredFormOptions = {
  leaveOut: new Set(["id", "status"]),
  version: KEYED_RECORD_VERSION,
  instantsAsNumbers: true,
};
/** A settled record also leaves out its start and end: the settle writes them beside it. */
const SETTLED: StoredFormOptions = {
  ...KEYED,
  leaveOut: new Set(["id", "status", "startedAt", "finishedAt"]),
};

/** A task hash's JSON (`d`) for `record`, whose id is the key's and whose status is written beside it. */
export function encodeKeyedRecord(record: TaskData): string {
  return encodeCompactTaskData(record, KEYED);
}

/** {@link encodeKeyedRecord} for a settle, which writes `startedAt` and `finishedAt` beside the JSON as well. */
export function encodeSettledRecord(record: TaskData): string {
  return encodeCompactTaskData(record, SETTLED);
}

/**
 * The stored JSON of task `id` as the shared codec reads it: a keyed record
 * gets back what its hash keeps beside it; any other (an earlier version's
 * full record, or text that is not JSON) is passed on as it is.
 */
function storedForm(id: string, json: string, fields: StoredFields): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return json; // The shared codec names what is wrong with it.
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return parsed;
  const stored = parsed as Record<string, unknown>;
  if (stored.v !== KEYED_RECORD_VERSION) return stored;
  stored.v = COMPACT_RECORD_VERSION;
  stored.id = id;
  if (fields.status) stored.status = fields.status;
  for (const field of INSTANT_FIELDS) {
    const value = stored[field];
    // Written as epoch ms; anything else is left for the shared codec to judge.
    if (typeof value === "number" && Math.abs(value) <= MAX_EPOCH_MS)
      stored[field] = new Date(value).toISOString();
  }
  return stored;
}

/** The merged record of task `id`, or its `failed` stand-in when the stored JSON is unusable. */
/** Hash fields read back for a record: JSON, script-written overrides, expiry. */
export const RECORD_FIELDS = ["d", "status", "startedAt", "finishedAt", "x"] as const;

export function readRecord(id: string, json: string, fields: StoredFields, now: number): TaskData {
  const where = `task record ${id} in Redis`;
  const stored = storedForm(id, json, fields);
  const version = (stored as { v?: unknown } | null)?.v;
  if (typeof version === "number" && version > KEYED_RECORD_VERSION) {
    // Not damaged: a newer Sheppy's form, which this one must neither run nor store back.
    return malformedRecord(
      id,
      stored,
      `${where} was written by a newer Sheppy (record version ${version}; this one reads version ${KEYED_RECORD_VERSION} at most): upgrade sheppy to read it`,
      now,
    );
  }
  const { record, malformed } = readStoredRecord(id, stored, where, now);
  if (malformed) return record;
  if (fields.status && !STATUSES.has(fields.status)) {
    // An earlier version's record, whose status beside it was damaged: judged as a keyed one's is.
    return readStoredRecord(id, { ...record, status: fields.status }, where, now).record;
  }
  if (fields.status) record.status = fields.status as TaskStatus;
  if (fields.startedAt) record.startedAt = fields.startedAt;
  if (fields.finishedAt) record.finishedAt = fields.finishedAt;
  return record;
}

/**
 * Decodes a claim reply `[startedAt, id, json, fence, damaged status, …]`;
 * every record is `processing` since `startedAt`, except one whose hash held
 * no task status: it is read with that status, as its failed stand-in.
 * `answered`: the reply arrived at `now`, so a `startedAt` later than that
 * (a stamp made from the server's clock, see `claims.ts`) reads as `now`.
 */
export function readClaims(flat: readonly string[], now: number, answered = false): ClaimedTask[] {
  const claims: ClaimedTask[] = [];
  const stamped = flat[0];
  const startedAt =
    answered && stamped !== undefined && Date.parse(stamped) > now ? isoAt(now) : stamped;
  for (let i = 1; i < flat.length; i += 4) {
    const damaged = flat[i + 3];
    const fields = damaged ? { status: damaged } : { status: "processing", startedAt };
    const record = readRecord(flat[i]!, flat[i + 1]!, fields, now);
    claims.push({ record, fence: Number(flat[i + 2]) });
  }
  return claims;
}

/** Decodes a reclaim reply `[id, json, status, startedAt, finishedAt, fence, …]`; an empty field is not an override. */
export function readReclaims(flat: readonly string[], now: number): ClaimedTask[] {
  const claims: ClaimedTask[] = [];
  for (let i = 0; i < flat.length; i += 6) {
    const [id, json, status, startedAt, finishedAt, fence] = flat.slice(i, i + 6) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const fields = {
      status: status || null,
      startedAt: startedAt || null,
      finishedAt: finishedAt || null,
    };
    claims.push({ record: readRecord(id, json, fields, now), fence: Number(fence) });
  }
  return claims;
}

/**
 * A record's JSON, route and route argument as `add.lua` and `settle.lua`
 * take them; `json` defaults to its keyed form.
 */
export function routeArgs(
  record: TaskData,
  route: RecordRoute,
  json = encodeKeyedRecord(record),
): [string, string, string] {
  if (route.kind === "due") return [json, "d", String(route.at)];
  if (route.kind === "finished") return [json, "f", record.status];
  return [json, "p", ""];
}
