/**
 * @module backends/redis/data-format
 * The layout of a prefix's data, as a number in `<p>:format`. Every layout
 * so far is format 1, and the key is absent: this version reads data that
 * earlier ones wrote (it upgrades what it must as it goes, see
 * `./legacy-index.ts`). A later version that changes the layout in a way
 * this one could not read writes a higher number once it has moved the data;
 * this version then refuses to connect rather than misread or damage the
 * tasks, as a PostgreSQL schema migrated by a newer Sheppy is refused.
 * Processes connected before the key is written do not read it again; what
 * stops them taking a record of a newer form is each queue's own
 * `{p:q}:records` mark, which every claim reads (`./scripts/claim.lua`).
 */
import { BackendError, SchemaVersionError } from "../../errors.js";
import { dataFormatKey } from "./keys.js";
import type { RedisSession } from "./session.js";

/** The highest layout this version reads. */
export const REDIS_DATA_FORMAT = 1;

/** Refuses a prefix whose data a newer layout holds; a prefix with no format key is format 1. */
export async function checkDataFormat(session: RedisSession): Promise<void> {
  const key = dataFormatKey(session.prefix);
  const stored = await session.call("connect", (client) => client.get(key));
  if (stored === null) return;
  const format = /^[1-9][0-9]{0,8}$/.test(stored) ? Number(stored) : Number.NaN;
  if (Number.isNaN(format)) {
    throw new BackendError(
      `connect: Redis at ${session.maskedUrl}: key ${key} holds ${JSON.stringify(stored.slice(0, 40))}, not a data format number; something other than Sheppy wrote it (another program using the prefix '${session.prefix}'?)`,
    );
  }
  if (format > REDIS_DATA_FORMAT) {
    throw new SchemaVersionError(
      `connect: Redis at ${session.maskedUrl}, prefix '${session.prefix}', holds data in format ${format}, written by a newer Sheppy; this one reads format ${REDIS_DATA_FORMAT} at most: upgrade sheppy`,
    );
  }
}
