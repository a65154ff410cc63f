/** The dashboard's addresses: every view, its status and task-name filters included, opens again from its hash. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { href, parseRoute, type Route } from "../../dashboard/src/route.js";

const name = fc.string({ minLength: 1, maxLength: 30, unit: "binary" });
const STATUSES = ["pending", "scheduled", "processing", "retrying", "completed", "failed"];

describe("dashboard addresses", () => {
  it("a queue's task list keeps its status filter in the hash", () => {
    expect(
      href({ view: "queue", queue: "shop", tab: "tasks", statuses: ["failed", "crashed"] }),
    ).toBe("#/q/shop?status=failed,crashed");
    expect(parseRoute("#/q/shop?status=failed,crashed")).toEqual({
      view: "queue",
      queue: "shop",
      tab: "tasks",
      statuses: ["failed", "crashed"],
      names: [],
    });
    expect(parseRoute("#/q/shop")).toEqual({
      view: "queue",
      queue: "shop",
      tab: "tasks",
      statuses: [],
      names: [],
    });
    // And its task-name filter, beside it.
    expect(
      href({
        view: "queue",
        queue: "shop",
        tab: "tasks",
        statuses: ["failed"],
        names: ["emails.send", "a&b"],
      }),
    ).toBe("#/q/shop?status=failed&name=emails.send,a%26b");
    expect(parseRoute("#/q/shop?status=failed&name=emails.send,a%26b")).toMatchObject({
      statuses: ["failed"],
      names: ["emails.send", "a&b"],
    });
    expect(parseRoute("#/q/shop?status=")).toMatchObject({ statuses: [] });
    expect(parseRoute("#/q/shop?other=1")).toMatchObject({ statuses: [] });
  });

  it("a queue's workflow list keeps its choice of only the running ones in the hash", () => {
    expect(href({ view: "queue", queue: "shop", tab: "workflows", running: true })).toBe(
      "#/q/shop/workflows?running=1",
    );
    expect(href({ view: "queue", queue: "shop", tab: "workflows", running: false })).toBe(
      "#/q/shop/workflows",
    );
    expect(parseRoute("#/q/shop/workflows?running=1")).toEqual({
      view: "queue",
      queue: "shop",
      tab: "workflows",
      running: true,
    });
    expect(parseRoute("#/q/shop/workflows")).toMatchObject({ running: false });
    expect(parseRoute("#/q/shop/workflows?running=yes")).toMatchObject({ running: false });
  });

  it("any queue name and id, with `?`, `/`, `#` or `%` in it, opens the same view again", () => {
    const routes: fc.Arbitrary<Route> = fc.oneof(
      fc.constant({ view: "home" } as const),
      fc.record({
        view: fc.constant("queue" as const),
        queue: name,
        tab: fc.constant("tasks" as const),
        statuses: fc.subarray(STATUSES),
        // Task names without a comma: the list's separator.
        names: fc.uniqueArray(
          name.filter((n) => !n.includes(",")),
          { maxLength: 3 },
        ),
      }),
      fc.record({
        view: fc.constant("queue" as const),
        queue: name,
        tab: fc.constant("crons" as const),
      }),
      fc.record({
        view: fc.constant("queue" as const),
        queue: name,
        tab: fc.constant("workflows" as const),
        running: fc.boolean(),
      }),
      fc.record({
        view: fc.constantFrom("task" as const, "workflow" as const),
        queue: name,
        id: name,
      }),
    );
    fc.assert(
      fc.property(routes, (route) => {
        expect(parseRoute(href(route))).toEqual(route);
      }),
    );
  });
});
