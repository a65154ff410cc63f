/**
 * A request target the API accepts names the path it acts on: resolving it as
 * a URL removes no segment and moves none, so a rule on the raw path (a
 * router's guard in front of the API) sees the segments the API reads.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rawPathProblem } from "../../src/http/raw-path.js";

const segment = fc.oneof(
  fc.constantFrom(".", "..", "%2e", "%2E%2e", ".%2e", "a.b", "...", "", "q", "%2f", "\\", "x\\y"),
  fc.string({ maxLength: 6 }).filter((text) => !/[?#%\s]/.test(text)),
);
const target = fc
  .array(segment, { minLength: 1, maxLength: 6 })
  .map((parts) => `/${parts.join("/")}`);

describe("raw request targets", () => {
  it("an accepted target keeps every segment when read as a URL", () => {
    fc.assert(
      fc.property(target, (path) => {
        if (rawPathProblem(path) !== null) return;
        // As the adapter builds it: the target appended to the origin.
        const resolved = new URL(`http://localhost${path}`).pathname.split("/");
        expect(resolved.length).toBe(path.split("/").length);
      }),
      { numRuns: 2000 },
    );
  });

  it("dot segments, encoded or not, and backslashes are refused; dots within a name are not", () => {
    for (const path of ["/a/../b", "/a/./b", "/a/%2e%2e/b", "/a/.%2E/b", "/a/..", "/a\\b"]) {
      expect(rawPathProblem(path), path).not.toBeNull();
    }
    for (const path of ["/a.b/stats", "/q/.../x", "/q/tasks?x=/../", "/", "/q/..x"]) {
      expect(rawPathProblem(path), path).toBeNull();
    }
  });
});
