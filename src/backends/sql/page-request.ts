/**
 * @module backends/sql/page-request
 * Page requests of the SQL backends' reads: the page size (1,000 by
 * default) and, for reads paged by position (`getScheduled`), the offset a
 * cursor names.
 */
import { InvalidOptionError } from "../../errors.js";
import type { PageRequest } from "../backend.js";

const DEFAULT_PAGE = 1000;

/** The page size `page` asks for, or an `InvalidOptionError`. */
export function pageLimit(page: PageRequest): number {
  const limit = page.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidOptionError(`page limit must be an integer ≥ 1 (got ${limit})`);
  return limit;
}

/** The offset and size of a page paged by position; the cursor is the offset. */
export function offsetPage(page: PageRequest): { offset: number; limit: number } {
  const offset = page.cursor ? Number(page.cursor) : 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidOptionError(`invalid page cursor '${page.cursor}'`);
  return { offset, limit: pageLimit(page) };
}
