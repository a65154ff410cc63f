/**
 * @module backends/sql/slot-state
 * Where the task holding a dedupe key stands, read from its row's `state`
 * and `status` columns, for the shared rule (`../dedupe-decision.ts`).
 */
import type { SlotTaskState } from "../dedupe-decision.js";
import { CLAIMED, FINISHED } from "./stored-columns.js";

/** The state of a task row (`undefined`: no such row). */
export function slotTaskStateOf(row: { state: number; status: string } | undefined): SlotTaskState {
  if (!row) return "missing";
  if (row.state === FINISHED) return "finished";
  if (row.state === CLAIMED) return "started";
  // Waiting for a retry counts as started: it has had an attempt.
  return row.status === "pending" || row.status === "scheduled" ? "waiting" : "started";
}
