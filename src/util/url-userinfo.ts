/**
 * @module util/url-userinfo
 * Why a URL with credentials may not parse: a password (or user name)
 * holding a character that has a meaning in a URL. The masked URL an error
 * shows hides the password, and with it the cause.
 */

/** The user-info part of `raw` (between `//` and its last `@` before the path), if any. */
function userInfoOf(raw: string): string | undefined {
  const start = raw.indexOf("//");
  if (start < 0) return undefined;
  const rest = raw.slice(start + 2);
  const at = rest.lastIndexOf("@");
  return at < 0 ? undefined : rest.slice(0, at);
}

/**
 * A hint for a URL that cannot be parsed, when its user name or password
 * holds `@`, `/`, `?`, `#` or a `%` that is not a percent-escape (which must
 * be percent-encoded); otherwise "".
 */
export function userInfoHint(raw: string): string {
  const info = userInfoOf(raw);
  if (info === undefined) return "";
  if (!/[@/?#]|%(?![0-9a-fA-F]{2})/.test(info)) return "";
  return "; a user name or password holding @ / ? # or % must be percent-encoded (encodeURIComponent)";
}
