/**
 * A route reads only the query parameters it takes: any other one — most
 * often a misspelt filter such as `?stauts=failed`, which would otherwise
 * list every task — is a 400 whose one line names the parameter, the route
 * and what the route takes; so is a parameter given twice. Parameters the
 * application reads itself (an access token for an `EventSource`, which
 * cannot send headers) are let through when it names them.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { InvalidOptionError, Queue, task } from "sheppy";
import { createHttpHandler, type HttpHandlerOptions } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ROUTES, type Route } from "../../src/http/routes.js";

const add = task({ name: "http-query-parameters.add" }, (a: number, b: number) => a + b);

const ORIGIN = "http://localhost";

function api(options: HttpHandlerOptions = {}) {
  const queue = new Queue("memory://?instantProcessing=false", { name: "emails" });
  const handler = createHttpHandler(queue.backend, options);
  const call = async (method: string, path: string, init: RequestInit = {}) => {
    const response = await handler(
      new Request(`${ORIGIN}${path}`, {
        method,
        ...(method === "GET" ? {} : { headers: { "content-type": "application/json" } }),
        ...(method === "GET" ? {} : { body: "{}" }),
        ...init,
      }),
    );
    const streamed = response.headers.get("content-type")?.startsWith("text/event-stream");
    if (streamed) {
      await response.body?.cancel();
      return { status: response.status, body: null as { error?: string } | null };
    }
    const text = await response.text();
    return {
      status: response.status,
      body: (text && response.headers.get("content-type")?.includes("json")
        ? JSON.parse(text)
        : null) as { error?: string } | null,
    };
  };
  return { queue, call };
}

/** The query parameters a route takes (none when it has no query schema). */
const parametersOf = (route: Route) =>
  route.query
    ? Object.keys(
        z.toJSONSchema(route.query, { io: "input", unrepresentable: "any" }).properties ?? {},
      )
    : [];

const pathOf = (route: Route) =>
  route.path.replace("{queue}", "emails").replace(/\{\w+\}/g, randomUUID());

describe("query parameters a route does not take", () => {
  it("every route refuses one by name, saying what it takes", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    for (const route of ROUTES) {
      const takes = parametersOf(route);
      const { status, body } = await call(route.method, `${pathOf(route)}?stauts=failed`);
      expect(status, `${route.method} ${route.path}`).toBe(400);
      expect(body?.error).toBe(
        `unknown query parameter 'stauts' in ${route.method} ${route.path} (it takes ${takes.length === 0 ? "none" : takes.join(", ")})`,
      );
    }
    await queue.close();
  });

  it("names every unknown parameter once, and lists nothing as known that is not", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    const { status, body } = await call("GET", "/emails/tasks?limt=5&stauts=failed&limt=6");
    expect(status).toBe(400);
    expect(body?.error).toBe(
      "unknown query parameters 'limt', 'stauts' in GET /{queue}/tasks (it takes status, name, concurrencyKey, dedupeKey, error, since, before, cursor, limit, view)",
    );
    await queue.close();
  });

  it("refuses a parameter given twice", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    const { status, body } = await call("GET", "/emails/tasks?limit=5&limit=50");
    expect(status).toBe(400);
    expect(body?.error).toBe("query parameter 'limit' is given more than once");
    await queue.close();
  });

  it("still reads the parameters a route takes", async () => {
    const { queue, call } = api();
    const added = await queue.add([add(1, 2), add(3, 4), add(5, 6)]);
    expect(added).toEqual([true, true, true]);
    const page = await call("GET", "/emails/tasks?status=pending&limit=2&view=summary");
    expect(page.status).toBe(200);
    expect((page.body as unknown as { tasks: unknown[] }).tasks).toHaveLength(2);
    const pending = await call("GET", "/emails/tasks/pending?limit=1");
    expect(pending.status).toBe(200);
    expect(pending.body as unknown as unknown[]).toHaveLength(1);
    await queue.close();
  });

  it("any name outside what the route takes is refused, any name it takes is not (property)", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    const known = [
      "status",
      "name",
      "concurrencyKey",
      "dedupeKey",
      "error",
      "since",
      "before",
      "cursor",
      "limit",
      "view",
    ];
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 20 }), async (name) => {
        const query = new URLSearchParams([[name, "x"]]);
        const { status, body } = await call("GET", `/emails/tasks?${query}`);
        if (known.includes(name)) {
          // A known name with a bad value fails on its value, never as unknown.
          expect(body?.error ?? "").not.toContain("unknown query parameter");
        } else {
          expect(status).toBe(400);
          expect(body?.error).toBe(
            `unknown query parameter '${name}' in GET /{queue}/tasks (it takes status, name, concurrencyKey, dedupeKey, error, since, before, cursor, limit, view)`,
          );
        }
      }),
      { numRuns: 300 },
    );
    await queue.close();
  });
});

describe("a page size", () => {
  it("is read as the digits of a whole number from 1 to 1000, nothing else (property)", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    const values = fc.oneof(
      fc.integer({ min: -5, max: 1100 }).map(String),
      fc.constantFrom("1e2", "0x10", " 5", "5 ", "5.0", "+5", "", "1_0", "Infinity", "NaN"),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        const query = new URLSearchParams([["limit", value]]);
        const { status, body } = await call("GET", `/emails/tasks?${query}`);
        const whole = /^\d{1,4}$/.test(value) && Number(value) >= 1 && Number(value) <= 1000;
        if (whole) {
          expect(status).toBe(200);
        } else {
          expect(status).toBe(400);
          expect(body?.error).toBe(
            `invalid query: limit: expected a whole number from 1 to 1000 (got '${value}')`,
          );
        }
      }),
      { numRuns: 300 },
    );
    await queue.close();
  });
});

describe("parameters the application reads itself", () => {
  it("are let through to authorize, on the routes and the event stream", async () => {
    const seen: (string | null)[] = [];
    const { queue, call } = api({
      extraQueryParameters: ["access_token"],
      authorize: (request) => {
        const token = new URL(request.url).searchParams.get("access_token");
        seen.push(token);
        return token === "s3cret";
      },
    });
    await queue.add(add(1, 2));
    expect((await call("GET", "/emails/tasks?access_token=s3cret&limit=1")).status).toBe(200);
    expect((await call("GET", "/emails/stats?access_token=s3cret")).status).toBe(200);
    expect((await call("GET", "/emails/events?access_token=s3cret")).status).toBe(200);
    expect((await call("GET", "/emails/stats?access_token=wrong")).status).toBe(403);
    // Other unknown parameters are still refused.
    const typo = await call("GET", "/emails/stats?access_token=s3cret&verbose=1");
    expect(typo.status).toBe(400);
    expect(typo.body?.error).toBe(
      "unknown query parameter 'verbose' in GET /{queue}/stats (it takes none)",
    );
    expect(seen).toEqual(["s3cret", "s3cret", "s3cret", "wrong", "s3cret"]);
    await queue.close();
  });

  it("must be a list of names", () => {
    const queue = new Queue("memory://", { name: "emails" });
    for (const bad of ["access_token", [""], [1], {}] as unknown[]) {
      expect(() =>
        createHttpHandler(queue.backend, { extraQueryParameters: bad as string[] }),
      ).toThrow(
        new InvalidOptionError(
          `createHttpHandler() option extraQueryParameters must be a list of parameter names (got ${JSON.stringify(bad)})`,
        ),
      );
    }
  });
});
