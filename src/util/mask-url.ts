/**
 * @module util/mask-url
 * Hides the credentials of a connection URL before it is shown in an error,
 * a log record or a banner. The rule covers every place where ioredis,
 * node-postgres and similar drivers read a secret:
 *
 * - **User-info**: everything between `//` (or the start of the text, when it
 *   has none) and the *last* `@`. With a colon, what follows the first colon
 *   is the password: `redis://user:secret@h` → `redis://user:****@h`. Without
 *   a colon it is a user name, shown (`postgres://app@h` stays as it is: a
 *   `****` there would suggest a password that was never given) — except in
 *   a Redis URL or text without a scheme, where it is masked whole
 *   (`redis://secret@h` → `redis://****@h`): ioredis sends it as the AUTH
 *   user name, but redis-cli and other clients read it as the password, and
 *   people put passwords there.
 * - **Parameters**: a `name=value` at the start of the text or after `?` or
 *   `&` has its value masked when the name, percent-decoded, contains `pass`,
 *   `pwd`, `secret`, `token`, `key`, `auth` or `cred` (any case):
 *   `password`, `pass`, `sslpassword`, `sentinelPassword`, `authToken`,
 *   `sslkey`… — drivers turn query parameters into options, so
 *   `redis://h?password=x` authenticates just as `redis://:x@h` does. Every
 *   occurrence of a repeated parameter is masked. So is, whole, a value that
 *   is itself a URL with user-info (`?listenUrl=postgres%3A%2F%2Fapp%3Ax%40h`):
 *   percent-encoded, its password has no `@` of the outer text to be found by.
 *
 * It works on the text, never on a parsed `URL`: percent-encoded secrets are
 * masked whole, nothing is re-encoded, and text that `new URL()` refuses (a
 * password with a raw `/`, `?` or `#`) is masked by the same rule. Taking the
 * last `@` means a raw `@` after the host (`?user=a@b`) masks everything before
 * it too: showing too little is the safe way to be wrong.
 */

const MASK = "****";

/** Parameter names (percent-decoded) whose values are secrets. */
const SECRET_NAME = /pass|pwd|secret|token|key|auth|cred/i;

/** A URL with user-info, once percent-decoded: `scheme://…@`. */
const URL_WITH_USER_INFO = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i;

/** `name=value` at the start of the text or after `?` / `&`; the value runs to the next `&` or `#`. */
const PARAMETER = /(^|[?&])([^?&#=/:@\s]*)=([^&#]*)/g;

function decoded(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Schemes in which a user-info without a colon may be a password (see the module note). */
const BARE_USER_INFO_IS_SECRET = /^rediss?(\+cluster)?:\/\//i;

/** [start, end) of the password part of the user-info, or undefined when there is none. */
function userInfoSecret(text: string): [number, number] | undefined {
  const at = text.lastIndexOf("@");
  if (at < 0) return undefined;
  const slashes = text.indexOf("//");
  const hasAuthority = slashes >= 0 && slashes < at;
  const start = hasAuthority ? slashes + 2 : 0;
  const colon = text.indexOf(":", start);
  if (colon >= 0 && colon < at) return [colon + 1, at];
  return !hasAuthority || BARE_USER_INFO_IS_SECRET.test(text) ? [start, at] : undefined;
}

/** [start, end) of each value of a parameter whose name says it is a secret. */
function secretParameters(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const match of text.matchAll(PARAMETER)) {
    const [whole, , name = "", value = ""] = match;
    if (!SECRET_NAME.test(decoded(name)) && !URL_WITH_USER_INFO.test(decoded(value))) continue;
    const end = match.index + whole.length;
    spans.push([end - value.length, end]);
  }
  return spans;
}

/** The URL with every password and secret parameter value replaced by `****`. */
export function maskUrl(raw: string): string {
  const hidden = new Array<boolean>(raw.length).fill(false);
  const spans = secretParameters(raw);
  const userInfo = userInfoSecret(raw);
  if (userInfo) spans.push(userInfo);
  for (const [start, end] of spans) hidden.fill(true, start, end);
  let masked = "";
  for (let i = 0; i < raw.length; i++) {
    if (!hidden[i]) masked += raw[i];
    else if (i === 0 || !hidden[i - 1]) masked += MASK;
  }
  return masked;
}
