/**
 * @module backends/redis/claim-spec
 * What the scripts need to place a new record among the claimable tasks
 * (`scripts/lib/slots.lua`), as one argument: its priority, or
 * `<priority>|<limit>|<key>` when it has a concurrency key (the first two
 * parts are digits, so a `|` inside the key is unambiguous).
 */
import type { TaskData } from "../../task/task-record.js";
import { claimPriority } from "../claim-priority.js";

export function claimSpec(record: TaskData): string {
  const priority = claimPriority(record);
  if (record.concurrencyKey === null) return String(priority);
  return `${priority}|${record.concurrencyLimit ?? 1}|${record.concurrencyKey}`;
}
