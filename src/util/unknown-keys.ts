/**
 * @module util/unknown-keys
 * Options objects are checked against their full list of keys, so a typo
 * (`retries: 3` for `retry`) is an error instead of an option silently ignored.
 */
import { InvalidOptionError } from "../errors.js";
import { likelyMeant } from "./likely-meant.js";

/**
 * The one-line complaint about the keys of `options` that are not in `known`,
 * naming them and the valid ones; `null` when every key is known.
 * @param what what a key is called in the message (`"option"`, `"rateLimit option"`)
 * @param valid what the known keys are called (`"valid options"`, `"fields"`)
 */
export function unknownKeysMessage(
  options: object,
  known: readonly string[],
  what = "option",
  valid = "valid options",
): string | null {
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length === 0) return null;
  const names = unknown.map((key) => `'${key}'`).join(", ");
  const meant = unknown.length === 1 ? likelyMeant(unknown[0]!, known) : undefined;
  const question = meant === undefined ? "" : `; did you mean '${meant}'?`;
  return `unknown ${what}${unknown.length > 1 ? "s" : ""} ${names}${question} (${valid}: ${known.join(", ")})`;
}

/**
 * Refuses an options argument that is not an object, or that names a key not
 * in `known`, with an `InvalidOptionError` starting with `where`
 * (`"queue.waitFor()"`); `undefined` is no options.
 */
export function checkOptionKeys(options: unknown, known: readonly string[], where: string): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    const given = options === null ? "null" : Array.isArray(options) ? "a list" : typeof options;
    // `new RedisBackend("redis://…")`: the URL is one of the options.
    const url =
      typeof options === "string" && /^[a-z][a-z0-9+.-]*:/i.test(options)
        ? `; a URL goes in them as { url: "${options.replace(/\/\/[^@/]*@/, "//****@")}" }`
        : "";
    throw new InvalidOptionError(`${where}: options must be an object (got ${given})${url}`);
  }
  const unknown = unknownKeysMessage(options, known);
  if (unknown) throw new InvalidOptionError(`${where}: ${unknown}`);
}
