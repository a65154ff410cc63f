/**
 * @module backends/redis/record-codec
 * A task hash holds the record JSON (`d`) plus the few fields scripts change
 * without re-encoding it (`status`, `startedAt`, `finishedAt`). Reading
 * merges them; a record that does not decode, or is not the record of the
 * key it is stored under, is read as the `failed` stand-in the shared codec
 * makes (`task/task-codec.ts`). What a script needs to know about where a
 * record goes comes from the shared routing (`../record-route.ts`).
 */
import { encodeCompactTaskData, readStoredRecord } from "../../task/task-codec.js";
import type { TaskData, TaskStatus } from "../../task/task-record.js";
import type { ClaimedTask } from "../backend.js";
import type { RecordRoute } from "../record-route.js";

export interface StoredFields {
  status?: string | null | undefined;
  startedAt?: string | null | undefined;
  finishedAt?: string | null | undefined;
}

/** The merged record of task `id`, or its `failed` stand-in when the stored JSON is unusable. */
export function readRecord(id: string, json: string, fields: StoredFields, now: number): TaskData {
  const { record, malformed } = readStoredRecord(id, json, `task record ${id} in Redis`, now);
  if (malformed) return record;
  if (fields.status) record.status = fields.status as TaskStatus;
  if (fields.startedAt) record.startedAt = fields.startedAt;
  if (fields.finishedAt) record.finishedAt = fields.finishedAt;
  return record;
}

/** Decodes a claim reply `[startedAt, id, json, fence, …]`; every record is `processing` since `startedAt`. */
export function readClaims(flat: readonly string[], now: number): ClaimedTask[] {
  const claims: ClaimedTask[] = [];
  const startedAt = flat[0];
  for (let i = 1; i < flat.length; i += 3) {
    const record = readRecord(flat[i]!, flat[i + 1]!, { status: "processing", startedAt }, now);
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

/** A record's JSON, route and route argument as `add.lua` and `settle.lua` take them. */
export function routeArgs(record: TaskData, route: RecordRoute): [string, string, string] {
  const json = encodeCompactTaskData(record);
  if (route.kind === "due") return [json, "d", String(route.at)];
  if (route.kind === "finished") return [json, "f", record.status];
  return [json, "p", ""];
}
