/**
 * The dashboard's addresses of the API: every call goes under the address
 * the page was reached at (so a proxy may serve it under another prefix),
 * and a queue's name is written into the path as the API wants it — as it
 * is, `:` included — while no name, whatever the address bar held, can step
 * out of the API's path.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiBaseOf, queueSegment } from "../../dashboard/src/paths.js";
import { queueNameProblem } from "../../src/queue/queue-name.js";

const QUEUE_CHARS = "abcXYZ019_.:-".split("");
const validName = fc
  .array(fc.constantFrom(...QUEUE_CHARS), { minLength: 1, maxLength: 40 })
  .map((chars) => chars.join(""))
  .filter((name) => queueNameProblem(name) === null);

describe("the dashboard's API addresses", () => {
  it("the API's root is the page's address without index.html or its closing slash", () => {
    expect(apiBaseOf("/admin/")).toBe("/admin");
    expect(apiBaseOf("/admin/index.html")).toBe("/admin");
    expect(apiBaseOf("/ops/queues/")).toBe("/ops/queues");
    expect(apiBaseOf("/ops/queues")).toBe("/ops/queues");
    expect(apiBaseOf("/")).toBe("");
    expect(apiBaseOf("/index.html")).toBe("");
  });

  it("a queue name is written as it is, ':' included: the API refuses encoded names", () => {
    expect(queueSegment("jobs:1.0")).toBe("jobs:1.0");
    fc.assert(
      fc.property(validName, (name) => {
        const segment = queueSegment(name);
        expect(segment).toBe(name);
        expect(segment).not.toContain("%");
      }),
    );
  });

  it("no name, whatever the address bar held, leaves the API's path", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20, unit: "binary" }), (name) => {
        const path = new URL(`/admin/${queueSegment(name)}/stats`, "http://localhost").pathname;
        expect(path.startsWith("/admin/")).toBe(true);
        expect(path.endsWith("/stats")).toBe(true);
        expect(path.slice("/admin/".length, -"/stats".length)).not.toContain("/");
      }),
    );
    for (const name of [".", "..", "../x", "a/b"])
      expect(new URL(`/admin/${queueSegment(name)}/stats`, "http://h").pathname).toMatch(
        /^\/admin\/[^/]*\/stats$/,
      );
  });
});
