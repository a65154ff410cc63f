/**
 * @module backends/redis/record-codec
 * A task hash holds the record JSON (`d`) plus the few fields scripts change
 * without re-encoding it (`status`, `startedAt`, `finishedAt`). Reading merges
 * them. A record that does not decode is not allowed to stop anyone: it is
 * read as a `failed` record whose error says what is wrong with it.
 */
import { isoAt } from "../../clock.js";
import { SerializationError } from "../../errors.js";
import { checkTaskData } from "../../task/task-codec.js";
import { TASK_DATA_VERSION, type TaskData, type TaskStatus } from "../../task/task-record.js";

export interface StoredFields {
  status?: string | null | undefined;
  startedAt?: string | null | undefined;
  finishedAt?: string | null | undefined;
}

/** The merged record, or a `failed` stand-in (`malformed: true`) when the stored JSON is unusable. */
export function readRecord(
  id: string,
  json: string,
  fields: StoredFields,
  now: number,
): { record: TaskData; malformed: boolean } {
  try {
    const record = checkTaskData(JSON.parse(json), `task record ${id} in Redis`);
    if (fields.status) record.status = fields.status as TaskStatus;
    if (fields.startedAt) record.startedAt = fields.startedAt;
    if (fields.finishedAt) record.finishedAt = fields.finishedAt;
    return { record, malformed: false };
  } catch (error) {
    const message =
      error instanceof SerializationError
        ? error.message
        : `malformed task record ${id} in Redis: not JSON (${(error as Error).message})`;
    return { record: malformedRecord(id, json, message, now), malformed: true };
  }
}

/** Records decoded from a script reply, with the malformed ones (read as `failed`) apart. */
export interface DecodedRecords {
  records: TaskData[];
  malformed: TaskData[];
}

/** Decodes an `[id, json, id, json, …]` script reply; every record takes the same `fields`. */
export function readRecordPairs(
  flat: readonly string[],
  fields: StoredFields,
  now: number,
): DecodedRecords {
  const decoded: DecodedRecords = { records: [], malformed: [] };
  for (let i = 0; i < flat.length; i += 2) {
    const { record, malformed } = readRecord(flat[i]!, flat[i + 1]!, fields, now);
    (malformed ? decoded.malformed : decoded.records).push(record);
  }
  return decoded;
}

/** Decodes an `[id, json, status, startedAt, finishedAt, …]` script reply; an empty field is not an override. */
export function readRecordRows(flat: readonly string[], now: number): TaskData[] {
  const records: TaskData[] = [];
  for (let i = 0; i < flat.length; i += 5) {
    const [id, json, status, startedAt, finishedAt] = flat.slice(i, i + 5) as [
      string,
      string,
      string,
      string,
      string,
    ];
    records.push(
      readRecord(
        id,
        json,
        { status: status || null, startedAt: startedAt || null, finishedAt: finishedAt || null },
        now,
      ).record,
    );
  }
  return records;
}

function malformedRecord(id: string, raw: string, message: string, now: number): TaskData {
  const at = isoAt(now);
  return {
    v: TASK_DATA_VERSION,
    id,
    name: "(malformed record)",
    args: [],
    status: "failed",
    result: null,
    error: {
      type: "SerializationError",
      message,
      stack: null,
      cause: null,
      props: { raw: raw.length > 2000 ? `${raw.slice(0, 2000)}…` : raw },
    },
    config: {
      retry: 0,
      retryDelay: 1,
      timeout: null,
      retryOnTimeout: false,
      retryOnCrash: false,
      rateLimit: null,
    },
    createdAt: at,
    scheduledAt: null,
    startedAt: null,
    finishedAt: at,
    retryCount: 0,
    lastRetryAt: null,
    nextRetryAt: null,
    workflowId: null,
    cronId: null,
  };
}

/** How `store-result.lua` should route a record: its kind and extra argument. */
export function storeRoute(
  record: TaskData,
): [kind: "due" | "pending" | "done" | "keep", extra: string] {
  if (record.status === "retrying" && record.nextRetryAt)
    return ["due", String(Date.parse(record.nextRetryAt))];
  if (record.status === "scheduled" && record.scheduledAt)
    return ["due", String(Date.parse(record.scheduledAt))];
  if (record.status === "pending") return ["pending", ""];
  if (record.finishedAt !== null) return ["done", record.status];
  return ["keep", ""];
}
