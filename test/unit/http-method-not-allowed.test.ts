/**
 * A path the API serves, asked with a method it does not take, is a 405
 * with an `Allow` header listing the methods it does take and an error body
 * shaped like every other (`{ error }`) — also where a route with a
 * parameter would otherwise read the path's fixed word as an id (`GET
 * /{queue}/tasks/clear` is not task "clear"). A path no route has stays 404.
 */
import { randomUUID } from "node:crypto";
import { Queue, task } from "sheppy";
import { createHttpHandler, type HttpHandlerOptions } from "sheppy/http";
import { describe, expect, it, vi } from "vitest";
import { ROUTES } from "../../src/http/routes.js";
import { RESERVED_TASK_IDS } from "../../src/queue/dedupe-options.js";

const add = task({ name: "http-method-not-allowed.add" }, (a: number, b: number) => a + b);

const ORIGIN = "http://localhost";
const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"];

function api(options: HttpHandlerOptions = {}) {
  const queue = new Queue("memory://?instantProcessing=false", { name: "emails" });
  const handler = createHttpHandler(queue.backend, options);
  const call = async (method: string, path: string) => {
    const response = await handler(
      new Request(`${ORIGIN}${path}`, {
        method,
        ...(method === "GET" ? {} : { headers: { "content-type": "application/json" } }),
        ...(method === "GET" ? {} : { body: "{}" }),
      }),
    );
    return {
      status: response.status,
      allow: response.headers.get("allow"),
      type: response.headers.get("content-type"),
      body: (await response.json()) as unknown,
    };
  };
  return { queue, call };
}

/** Each path of the route table with the methods it takes, in the table's order. */
const PATHS = [...new Set(ROUTES.map((route) => route.path))].map((path) => ({
  path,
  methods: ROUTES.filter((route) => route.path === path).map((route) => route.method),
}));

/** What `Allow` lists for `methods`: HEAD too wherever GET is, as it is answered there. */
const allowOf = (methods: readonly string[]) =>
  (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");

/** Every path and a method it does not take, with the path's parameters filled in. */
const WRONG = PATHS.flatMap(({ path, methods }) =>
  METHODS.filter((method) => !methods.includes(method as never) && method !== "HEAD").map(
    (method) => ({
      method,
      template: path,
      path: path.replace("{queue}", "emails").replace(/\{\w+\}/g, randomUUID()),
      allow: allowOf(methods),
    }),
  ),
);

describe("a method the path does not take", () => {
  it.each(WRONG)("$method $template: 405, Allow: $allow", async ({ method, path, allow }) => {
    const { call } = api();
    expect(await call(method, path)).toEqual({
      status: 405,
      allow,
      type: "application/json; charset=utf-8",
      body: { error: `${method} ${path} is not allowed: it takes ${allow}` },
    });
  });

  it("a fixed word is the path's own, not an id: GET /{queue}/tasks/clear is a 405, not task 'clear'", async () => {
    const { queue, call } = api({ basePath: "/sheppy" });
    await queue.add(add(1, 2));
    for (const [method, path, allow] of [
      ["GET", "/emails/tasks/clear", "POST"],
      ["GET", "/emails/tasks/schedule", "POST"],
      ["DELETE", "/emails/tasks/pending", "GET, HEAD"],
      ["DELETE", "/emails/tasks/scheduled", "GET, HEAD"],
    ] as const) {
      const answer = await call(method, `/sheppy${path}`);
      expect([method, path, answer.status, answer.allow]).toEqual([method, path, 405, allow]);
    }
    // Nothing was cleared or deleted, and the routes with parameters still serve ids.
    expect(await queue.size()).toBe(1);
    const [pending] = await queue.getPending(1);
    expect((await call("GET", `/sheppy/emails/tasks/${pending!.id}`)).status).toBe(200);
    expect((await call("GET", "/sheppy/emails/tasks/pending")).status).toBe(200);
  });

  it("the OpenAPI document and the dashboard's files take GET only; without the dashboard its paths are unknown", async () => {
    const { call } = api();
    for (const path of ["/openapi.json", "/", "/index.html", "/assets/app.js", "/assets/app.css"]) {
      expect(await call("POST", path)).toEqual({
        status: 405,
        allow: "GET, HEAD",
        type: "application/json; charset=utf-8",
        body: { error: `POST ${path} is not allowed: it takes GET, HEAD` },
      });
    }
    // Nor does it take a query: a misspelt one is said, as on every route.
    expect((await call("GET", "/openapi.json?x=1")).body).toEqual({
      error: "unknown query parameter 'x' in GET /openapi.json (it takes none)",
    });
    expect(
      (await api({ extraQueryParameters: ["token"] }).call("GET", "/openapi.json?token=t")).status,
    ).toBe(200);
    const bare = api({ dashboard: false });
    expect((await bare.call("POST", "/")).status).toBe(404);
    expect((await bare.call("POST", "/assets/app.js")).status).toBe(404);
    expect((await bare.call("POST", "/openapi.json")).status).toBe(405);
  });

  it("no caller may choose a fixed word of the task paths as a task id, so every task stays addressable", async () => {
    const words = new Set(
      ROUTES.map((route) => /^\/\{queue\}\/tasks\/([a-z]+)$/.exec(route.path)?.[1]).filter(
        (word): word is string => word !== undefined,
      ),
    );
    expect([...words].sort()).toEqual([...RESERVED_TASK_IDS].sort());
    const { queue } = api();
    for (const word of words) {
      await expect(queue.add(add(1, 2), { id: word })).rejects.toThrow(
        /id must be .*words of the HTTP API's paths/,
      );
    }
  });

  it("a path no route has stays a 404, whatever the method", async () => {
    const { call } = api();
    for (const method of METHODS) {
      for (const path of ["/emails/nothing", "/emails/tasks/x/y/z", "/a/b/c/d/e", "/assets/x.js"]) {
        expect([method, path, (await call(method, path)).status]).toEqual([method, path, 404]);
      }
    }
    expect((await call("GET", "/emails/nothing")).body).toEqual({
      error: "no route /emails/nothing",
    });
  });

  it("HEAD answers what GET would, without a body, on every route that takes GET (the event stream included)", async () => {
    const { queue } = api();
    await queue.add(add(1, 2));
    const handler = createHttpHandler(queue.backend);
    for (const path of ["/queues", "/metrics", "/emails/stats", "/emails/events", "/nope/x/y/z"]) {
      const [head, get] = await Promise.all(
        ["HEAD", "GET"].map((method) => {
          const leave = new AbortController();
          const answer = handler(new Request(`${ORIGIN}${path}`, { method, signal: leave.signal }));
          // The GET of the stream would run until its reader leaves.
          if (path.endsWith("/events") && method === "GET") setTimeout(() => leave.abort(), 100);
          return answer;
        }),
      );
      expect([path, head!.status, head!.headers.get("content-type")]).toEqual([
        path,
        get!.status,
        get!.headers.get("content-type"),
      ]);
      expect(await head!.text()).toBe("");
      await get!.body?.cancel();
    }
  });

  it("HEAD of the event stream leaves nothing running: no log reader, no stats timer", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "emails" });
    const backend = await queue.connect();
    const reads = vi.spyOn(backend, "readEvents");
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const head = await createHttpHandler(queue.backend)(
        new Request(`${ORIGIN}/emails/events`, { method: "HEAD" }),
      );
      expect([head.status, await head.text()]).toEqual([200, ""]);
      // The stream's start finishes after the HEAD's answer: let it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(vi.getTimerCount()).toBe(0);
      expect(reads).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it("the base path is whole segments, and a 404 names the path asked for", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "emails" });
    const handler = createHttpHandler(queue.backend, { basePath: "/sheppy" });
    expect((await handler(new Request(`${ORIGIN}/sheppy/queues`))).status).toBe(200);
    const outside = await handler(new Request(`${ORIGIN}/sheppyemails/stats`));
    expect([outside.status, await outside.json()]).toEqual([
      404,
      { error: "no route /sheppyemails/stats" },
    ]);
    const inside = await handler(new Request(`${ORIGIN}/sheppy/a/b/c/d/e`));
    expect(await inside.json()).toEqual({ error: "no route /sheppy/a/b/c/d/e" });
  });

  it("a 404 whose path is the API's under another prefix names the basePath it suggests: a handler reads the whole path a request arrived with", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "emails" });
    // Given the router's own mount path, where requests arrive under the app's whole path.
    const inRouter = createHttpHandler(queue.backend, { basePath: "/queues" });
    const nested = await inRouter(new Request(`${ORIGIN}/admin/queues/queues`));
    expect([nested.status, await nested.json()]).toEqual([
      404,
      {
        error:
          "no route /admin/queues/queues (this handler was given basePath '/queues'; requests reach it with their whole path, so if it is mounted under '/admin/queues', give createHttpHandler({ basePath: '/admin/queues' }))",
      },
    ]);
    const atRoot = createHttpHandler(queue.backend);
    const mounted = await atRoot(new Request(`${ORIGIN}/ops/emails/stats`));
    expect((await mounted.json()) as { error: string }).toEqual({
      error:
        "no route /ops/emails/stats (this handler was given no basePath; requests reach it with their whole path, so if it is mounted under '/ops', give createHttpHandler({ basePath: '/ops' }))",
    });
    // A path that is no route under any prefix says nothing more.
    expect(await (await atRoot(new Request(`${ORIGIN}/emails/nothing`))).json()).toEqual({
      error: "no route /emails/nothing",
    });
  });

  it("authorization comes first: a refused caller learns no path's methods", async () => {
    const { call } = api({ authorize: () => false });
    const refused = await call("GET", "/emails/tasks/clear");
    expect([refused.status, refused.allow]).toEqual([403, null]);
  });

  it("the OpenAPI document says so", async () => {
    const { call } = api();
    const doc = (await call("GET", "/openapi.json")).body as { info: { description: string } };
    expect(doc.info.description).toContain("405");
    expect(doc.info.description).toContain("`Allow`");
  });
});
