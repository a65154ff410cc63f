/**
 * @module util/lone-surrogate
 * Text with half a character in it: a UTF-16 surrogate without its pair,
 * which `text.slice(0, n)` leaves when it cuts through an emoji. Every store
 * Sheppy writes keys to (Redis, PostgreSQL, SQLite) takes UTF-8, where such
 * a half has no encoding and becomes U+FFFD — so two different keys would
 * become one stored key, and the tasks of one would hold the other's slots,
 * windows or dedupe entries. Keys are refused instead, when they are given.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `text` cannot be a stored key — "holds half a character (…) at
 * index …" — or `null` when it is well-formed Unicode.
 */
export function loneSurrogateProblem(text: string): string | null {
  const found = LONE_SURROGATE.exec(text);
  if (found === null) return null;
  const unit = found[0].charCodeAt(0).toString(16).toUpperCase();
  return `holds half a character (the lone surrogate U+${unit} at index ${found.index}, as text.slice() leaves when it cuts an emoji in two), which storage would turn into U+FFFD, making it the same key as others; cut text by code points ([...text].slice(0, n).join(""))`;
}
