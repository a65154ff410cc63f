/**
 * Keys (rate-limit, concurrency) that differ, yet that a backend escaping the
 * characters it cannot store (NUL on PostgreSQL) could confuse with each
 * other: NUL, the escape character U+0001 around it, and an astral one.
 */
export const CONFUSABLE_KEYS: readonly string[] = [
  "a\u0000b",
  "\u0001a\u00010b",
  "a\u00010b",
  "a\u0001\u0001b",
  "a\u0001b",
  "ab",
  "\u{1F600}",
];
