/** The dashboard's files as the API's handler serves them (built into dist/ by `npm run build`). */
import { Queue, type TaskData, task } from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const get = (handler: ReturnType<typeof createHttpHandler>, path: string) =>
  handler(new Request(`http://127.0.0.1${path}`));

describe("the dashboard served by createHttpHandler", () => {
  it("serves the page at the base path, its addresses relative to it, telling it whether it may change anything", async () => {
    const handler = createHttpHandler("memory://", { basePath: "/ops/sheppy", readOnly: true });
    for (const path of ["/ops/sheppy/", "/ops/sheppy/index.html"]) {
      const page = await get(handler, path);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await page.text();
      expect(html).toContain('content="{&quot;readOnly&quot;:true}"');
      // Relative: behind a proxy that serves the API under another prefix, they resolve there.
      expect(html).toContain('src="assets/app.js"');
      expect(html).toContain('href="assets/app.css"');
      expect(html).not.toContain("/ops/sheppy");
      // No inline script: the page's policy allows scripts from this origin only.
      expect(html).not.toMatch(/<script>(?!<\/script>)/);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    }
  });

  it("the base path without its closing slash serves the page, its files addressed under the base path relative to the request", async () => {
    const handler = createHttpHandler("memory://", { basePath: "/ops/sheppy" });
    // Not a redirect: a framework that takes the slash off (Next.js) would send it back for ever.
    const page = await get(handler, "/ops/sheppy?x=1");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('href="sheppy/assets/app.css"');
    expect(html).toContain('src="sheppy/assets/app.js"');
    // Behind a proxy that serves it under another prefix, the files resolve where it was reached.
    expect(new URL("sheppy/assets/app.js", "http://h/admin/ops/sheppy?x=1").pathname).toBe(
      "/admin/ops/sheppy/assets/app.js",
    );
    expect((await get(handler, "/ops/sheppy/assets/app.js")).status).toBe(200);
    // The API alone has no page there.
    const apiOnly = createHttpHandler("memory://", { basePath: "/ops/sheppy", dashboard: false });
    expect((await get(apiOnly, "/ops/sheppy")).status).toBe(404);
  });

  it("serves its script and styles, and nothing else under /assets", async () => {
    const handler = createHttpHandler("memory://");
    const script = await get(handler, "/assets/app.js");
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await script.text()).length).toBeGreaterThan(1000);
    const styles = await get(handler, "/assets/app.css");
    expect(styles.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await styles.text()).toContain(".uplot");
    expect((await get(handler, "/assets/../../package.json")).status).toBe(404);
    expect((await get(handler, "/assets/index.html")).status).toBe(404);
  });

  it("its files carry a tag of their content: asked again with it, the answer is a 304 without the file", async () => {
    const handler = createHttpHandler("memory://");
    for (const path of ["/assets/app.js", "/assets/app.css"]) {
      const first = await get(handler, path);
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^"[\w-]{22}"$/);
      expect(first.headers.get("cache-control")).toBe("no-cache");
      const again = await handler(
        new Request(`http://127.0.0.1${path}`, { headers: { "if-none-match": `W/${etag}, "x"` } }),
      );
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      const stale = await handler(
        new Request(`http://127.0.0.1${path}`, { headers: { "if-none-match": '"stale"' } }),
      );
      expect(stale.status).toBe(200);
    }
    const other = await get(handler, "/assets/app.css");
    expect(other.headers.get("etag")).not.toBe(
      (await get(handler, "/assets/app.js")).headers.get("etag"),
    );
  });

  it("the API's JSON answers are never kept by a cache", async () => {
    const handler = createHttpHandler("memory://");
    expect((await get(handler, "/queues")).headers.get("cache-control")).toBe("no-store");
    expect((await get(handler, "/no-such-route/x/y")).headers.get("cache-control")).toBe(
      "no-store",
    );
  });

  it("asks authorize first, and is not served when turned off", async () => {
    const guarded = createHttpHandler("memory://", { authorize: () => false });
    expect((await get(guarded, "/")).status).toBe(403);
    expect((await get(guarded, "/assets/app.js")).status).toBe(403);
    const apiOnly = createHttpHandler("memory://", { dashboard: false });
    expect((await get(apiOnly, "/")).status).toBe(404);
    expect((await get(apiOnly, "/assets/app.js")).status).toBe(404);
    expect((await get(apiOnly, "/queues")).status).toBe(200);
  });
});

describe("what the dashboard asks of the API", () => {
  it("an authorize that returns a Response sends it: a browser can be asked to log in", async () => {
    const handler = createHttpHandler("memory://", {
      authorize: (request) =>
        request.headers.get("authorization") === `Basic ${btoa("ops:pw")}` ||
        new Response("log in", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="sheppy"' },
        }),
    });
    const refused = await get(handler, "/");
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Basic realm="sheppy"');
    const allowed = await handler(
      new Request("http://127.0.0.1/queues", {
        headers: { authorization: `Basic ${btoa("ops:pw")}` },
      }),
    );
    expect(allowed.status).toBe(200);
  });

  it("view=summary lists tasks without their arguments, results, errors in full, or meta", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "rows" });
    const echo = task({ name: "http-dashboard.echo" }, (text: string) => text);
    const big = echo("x".repeat(100_000));
    await queue.add(big);
    const handler = createHttpHandler(queue.backend);
    const full = (await (await get(handler, "/rows/tasks")).json()) as { tasks: TaskData[] };
    expect(full.tasks[0]!.args).toEqual(["x".repeat(100_000)]);
    const summary = await get(handler, "/rows/tasks?view=summary");
    const body = (await summary.json()) as { tasks: Record<string, unknown>[] };
    expect(body.tasks[0]).toMatchObject({
      id: big.id,
      name: "http-dashboard.echo",
      status: "pending",
    });
    for (const field of ["args", "result", "meta", "config"])
      expect(body.tasks[0]).not.toHaveProperty(field);
    expect(JSON.stringify(body).length).toBeLessThan(2000);
    expect((await get(handler, "/rows/tasks?view=everything")).status).toBe(400);
    await queue.close();
  });

  it("queue names '.' and '..' are refused: no URL could name them", () => {
    for (const name of [".", ".."]) {
      expect(() => new Queue("memory://", { name })).toThrow(/not '\.' or '\.\.' alone/);
    }
    expect(new Queue("memory://", { name: "..." }).name).toBe("...");
  });
});
