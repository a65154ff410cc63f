/**
 * @module util/unknown-keys
 * Options objects are checked against their full list of keys, so a typo
 * (`retries: 3` for `retry`) is an error instead of an option silently ignored.
 */

/**
 * The one-line complaint about the keys of `options` that are not in `known`,
 * naming them and the valid ones; `null` when every key is known.
 * @param what what a key is called in the message (`"option"`, `"rateLimit option"`)
 */
export function unknownKeysMessage(
  options: object,
  known: readonly string[],
  what = "option",
): string | null {
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length === 0) return null;
  const names = unknown.map((key) => `'${key}'`).join(", ");
  return `unknown ${what}${unknown.length > 1 ? "s" : ""} ${names} (valid options: ${known.join(", ")})`;
}
