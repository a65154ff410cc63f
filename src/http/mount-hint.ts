/**
 * @module http/mount-hint
 * What a 404 adds when the request's path looks like the API's under
 * another base path than the handler was given: the handler reads the whole
 * path a request arrived with (Express's `originalUrl`, not a router's
 * stripped one), so `basePath` must be that whole prefix — a mistake the bare
 * "no route" never named.
 */

/**
 * The hint for `pathname` (not served under `basePath`), or `""`: the base
 * path the request's path suggests, when stripping a prefix of whole segments
 * leaves a path that `serves` (a route, or the dashboard).
 */
export function mountHint(
  pathname: string,
  basePath: string,
  serves: (path: string) => boolean,
): string {
  const segments = pathname.split("/").slice(1);
  // The shortest prefix first: `/admin/queues/queues` under `/admin/queues` before `/admin`.
  for (let cut = 1; cut < segments.length; cut++) {
    const prefix = `/${segments.slice(0, cut).join("/")}`;
    if (prefix === basePath) continue;
    const rest = `/${segments.slice(cut).join("/")}`;
    if (!serves(rest)) continue;
    const given = basePath === "" ? "no basePath" : `basePath '${basePath}'`;
    return ` (this handler was given ${given}; requests reach it with their whole path, so if it is mounted under '${prefix}', give createHttpHandler({ basePath: '${prefix}' }))`;
  }
  return "";
}
