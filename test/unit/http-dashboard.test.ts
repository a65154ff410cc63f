/** The dashboard's files as the API's handler serves them (built into dist/ by `npm run build`). */
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const get = (handler: ReturnType<typeof createHttpHandler>, path: string) =>
  handler(new Request(`http://127.0.0.1${path}`));

describe("the dashboard served by createHttpHandler", () => {
  it("serves the page at the base path, telling it where the API is and whether it may change anything", async () => {
    const handler = createHttpHandler("memory://", { basePath: "/ops/sheppy", readOnly: true });
    for (const path of ["/ops/sheppy", "/ops/sheppy/", "/ops/sheppy/index.html"]) {
      const page = await get(handler, path);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await page.text();
      expect(html).toContain(
        'content="{&quot;basePath&quot;:&quot;/ops/sheppy&quot;,&quot;readOnly&quot;:true}"',
      );
      expect(html).toContain('src="/ops/sheppy/assets/app.js"');
      expect(html).toContain('href="/ops/sheppy/assets/app.css"');
      // No inline script: the page's policy allows scripts from this origin only.
      expect(html).not.toMatch(/<script>(?!<\/script>)/);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    }
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

  it("escapes the base path it writes into the page", async () => {
    const handler = createHttpHandler("memory://", { basePath: "/a&b" });
    const html = await (await get(handler, "/a&b/")).text();
    expect(html).toContain('src="/a&amp;b/assets/app.js"');
    expect(html).toContain("&quot;basePath&quot;:&quot;/a&amp;b&quot;");
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
