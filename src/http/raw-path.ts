/**
 * @module http/raw-path
 * A request target as the application's own router saw it. A router matches
 * the raw path (`/sheppy/x/../payments/pause` is not under
 * `/sheppy/payments`), while a URL resolves its dot segments (and reads a
 * backslash as a slash) into the path the API would act on
 * (`/sheppy/payments/pause`). A rule on the raw path — a router's guard in
 * front of the API — would then not apply to what the API does, so such a
 * target is refused rather than resolved.
 */

/** Why the raw request target `target` is refused, or `null` when its path means what it says. */
export function rawPathProblem(target: string): string | null {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  if (path.includes("\\")) return "a backslash in the path is refused (write each / as it is)";
  for (const segment of path.split("/")) {
    const plain = segment.replace(/%2e/gi, ".");
    if (plain === "." || plain === "..") {
      return `a '${segment}' segment in the path is refused: send the path it resolves to`;
    }
  }
  return null;
}
