/**
 * @module queue/queue-name
 * What a queue may be called: the characters safe in Redis keys, SQL and URL
 * paths alike. `.` and `..` alone are path segments a URL resolves away, so
 * the HTTP API could never address them.
 */
import { quoteText } from "../task/describe-value.js";

const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Why `name` cannot name a queue, as one line; `null` when it can. */
export function queueNameProblem(name: string): string | null {
  if (QUEUE_NAME.test(name) && name !== "." && name !== "..") return null;
  return `Invalid queue name ${quoteText(name)}: use 1–128 ASCII letters, digits, '_', '.', ':' or '-' (not '.' or '..' alone)`;
}
