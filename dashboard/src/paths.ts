/**
 * The dashboard's addresses of the API, worked out from the page's own: pure
 * functions, so the tests run them without a browser.
 */

/** The API's root as this page was reached: `/admin/` or `/admin/index.html` give `/admin`; `/` gives ``. */
export function apiBaseOf(pathname: string): string {
  return pathname.replace(/\/index\.html$/, "/").replace(/\/+$/, "");
}

/**
 * A queue name as a path segment. Names never need encoding (letters,
 * digits, `_ . : -`), and the API refuses an encoded one; `:` stays as it
 * is. `.` or `..` alone (no queue's name, but an address bar may hold
 * anything) is encoded twice: a browser reads `%2E` as a dot too, and would
 * take the segment for a step up the path; the API refuses what arrives.
 */
export function queueSegment(queue: string): string {
  const segment = encodeURIComponent(queue).replaceAll("%3A", ":");
  return segment === "." || segment === ".." ? segment.replaceAll(".", "%252E") : segment;
}
