/**
 * @module util/cap-text
 * Cutting text to a length, for anything stored or shown whose size is not the
 * writer's to choose (an error message, a property's description).
 */

/**
 * `text` when it has at most `max` characters (UTF-16 units), else its start
 * and `…`, `max` characters in all. A surrogate pair is never cut in half.
 * @example capText("abcdef", 4) // "abc…"
 */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  // Half of a surrogate pair is not a character; cut before it.
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
