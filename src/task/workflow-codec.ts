/**
 * @module task/workflow-codec
 * Workflow records ↔ stored JSON, checked on the way back: a record some
 * other program wrote, or a damaged one, is refused with a
 * `SerializationError` naming the field, instead of failing later inside a
 * replay.
 */
import { SerializationError } from "../errors.js";
import { WORKFLOW_DATA_VERSION, WORKFLOW_STATUSES, type WorkflowData } from "./workflow-record.js";

const STATUSES: ReadonlySet<string> = new Set(WORKFLOW_STATUSES);

/** `data` as stored JSON. Throws `SerializationError` when it cannot be encoded. */
export function encodeWorkflowData(data: WorkflowData): string {
  try {
    return JSON.stringify(data);
  } catch (error) {
    throw new SerializationError(
      `cannot encode workflow record ${data.id}: ${error instanceof Error ? error.message : "unknown problem"}`,
      { cause: error },
    );
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isInstant = (value: unknown) => typeof value === "string" && !Number.isNaN(Date.parse(value));

function bad(where: string, field: string, expected: string): never {
  throw new SerializationError(`malformed ${where}: field '${field}' must be ${expected}`);
}

/** Parses and checks a stored workflow record; `where` names it in errors. */
export function decodeWorkflowData(json: string, where = "workflow record"): WorkflowData {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new SerializationError(`malformed ${where}: not JSON (${(error as Error).message})`);
  }
  return checkWorkflowData(raw, where);
}

/** Checks that `raw` is a workflow record of a known version and returns it typed. */
export function checkWorkflowData(raw: unknown, where = "workflow record"): WorkflowData {
  if (!isObject(raw)) return bad(where, "(record)", "an object");
  if (raw.v !== WORKFLOW_DATA_VERSION) bad(where, "v", `${WORKFLOW_DATA_VERSION}`);
  if (typeof raw.id !== "string" || raw.id === "") bad(where, "id", "a non-empty string");
  if (typeof raw.name !== "string" || raw.name === "") bad(where, "name", "a non-empty string");
  if (!Array.isArray(raw.args)) bad(where, "args", "an array");
  if (typeof raw.status !== "string" || !STATUSES.has(raw.status))
    bad(where, "status", "a workflow status");
  if (
    !Array.isArray(raw.steps) ||
    !raw.steps.every(
      (step) =>
        isObject(step) &&
        typeof step.taskId === "string" &&
        typeof step.name === "string" &&
        typeof step.argsHash === "string" &&
        Number.isInteger(step.index) &&
        Number.isInteger(step.yield),
    )
  ) {
    bad(where, "steps", "a list of steps");
  }
  if (!Array.isArray(raw.pending) || !raw.pending.every((id) => typeof id === "string"))
    bad(where, "pending", "a list of task ids");
  if (!Array.isArray(raw.effects)) bad(where, "effects", "an array");
  if (!("result" in raw)) bad(where, "result", "present (null when none)");
  if (raw.error !== null && (!isObject(raw.error) || typeof raw.error.type !== "string"))
    bad(where, "error", "null or an error record");
  if (!isObject(raw.config)) bad(where, "config", "an object");
  if (!isInstant(raw.createdAt)) bad(where, "createdAt", "an ISO-8601 instant");
  if (raw.finishedAt !== null && !isInstant(raw.finishedAt))
    bad(where, "finishedAt", "an ISO-8601 instant or null");
  if (
    raw.retryCount !== undefined &&
    !(Number.isInteger(raw.retryCount) && Number(raw.retryCount) > 0)
  )
    bad(where, "retryCount", "a whole number above 0, or absent");
  if (raw.seed !== undefined && (typeof raw.seed !== "string" || raw.seed === ""))
    bad(where, "seed", "a non-empty string, or absent");
  return raw as unknown as WorkflowData;
}
