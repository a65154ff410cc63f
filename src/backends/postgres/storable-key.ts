/**
 * @module backends/postgres/storable-key
 * Keys chosen by users (rate-limit and concurrency keys) as PostgreSQL text,
 * which cannot hold NUL: a key with one would make every statement writing
 * it fail — for a rate limit, every start of its tasks. Only the columns
 * hold the escaped form; the record's JSON keeps the key as it was given.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and U+0001 are the characters escaped
const ESCAPED = /[\u0000\u0001]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and U+0001 are the characters escaped
const ESCAPED_ALL = /[\u0000\u0001]/g;

/**
 * `key` itself unless it holds NUL or U+0001; else U+0001, then the key with
 * each U+0001 doubled and each NUL written as U+0001 '0'. Keys of the first
 * kind hold no U+0001 and those of the second start with it, and the second
 * kind's escaping reads back one way only: two keys never become one.
 */
export function storableKey(key: string): string {
  if (!ESCAPED.test(key)) return key;
  return `\u0001${key.replace(ESCAPED_ALL, (c) => (c === "\u0000" ? "\u00010" : "\u0001\u0001"))}`;
}

/** The concurrency key of a row to be written, as {@link storableKey} stores it. */
export function storableConcurrencyKey(row: {
  readonly concurrencyKey: string | null;
}): string | null {
  return row.concurrencyKey === null ? null : storableKey(row.concurrencyKey);
}
