/**
 * @module backends/sql/workflow-pages
 * `listWorkflows` on a SQL backend: pages in insertion order, the cursor
 * being the insertion number of the last workflow returned. The backends
 * differ only in the statement that reads a page.
 */
import { InvalidOptionError, SerializationError } from "../../errors.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import type { PageRequest, WorkflowPage } from "../backend.js";

/** A page request checked: where it goes on (insertion number, 0 for the first page) and how many. */
export function checkWorkflowPage(page: PageRequest): { after: string; limit: number } {
  const cursor = page.cursor ?? null;
  if (cursor !== null && !/^\d{1,15}$/.test(cursor)) {
    throw new InvalidOptionError(`listWorkflows: invalid cursor '${String(cursor).slice(0, 40)}'`);
  }
  const limit = page.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
  return { after: cursor ?? "0", limit };
}

/**
 * The page of `rows` (up to `limit` + 1 read, in insertion order): records
 * that cannot be read are left out (`getWorkflows` reports them), and one
 * row past the page means there is a next one.
 */
export function workflowPageOf<R extends { seq: string | number }>(
  rows: readonly R[],
  limit: number,
  read: (row: R) => WorkflowData,
): WorkflowPage {
  const shown = rows.slice(0, limit);
  const workflows: WorkflowData[] = [];
  for (const row of shown) {
    try {
      workflows.push(read(row));
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
    }
  }
  return {
    workflows,
    cursor: rows.length > limit ? String(shown[shown.length - 1]!.seq) : null,
  };
}
