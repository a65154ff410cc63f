/**
 * `GET /metrics` of the HTTP handler: Prometheus text with its content type,
 * for every queue the backend lists or those `?queue=` names, behind the
 * handler's `authorize`, and described in the OpenAPI document.
 */
import { MemoryBackend, PROMETHEUS_CONTENT_TYPE, Queue, task } from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { afterEach, describe, expect, it } from "vitest";
import { defaultTaskMetrics } from "../../src/observability/task-metrics.js";
import { parseExposition, sampleValue } from "../support/prometheus.js";

const ORIGIN = "http://localhost";
const echo = task({ name: "http-metrics.echo" }, (n: number) => n);

const backends: MemoryBackend[] = [];
afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.disconnect();
});

async function setup() {
  defaultTaskMetrics.reset();
  const backend = new MemoryBackend();
  backends.push(backend);
  await new Queue(backend, { name: "a" }).add([echo(1), echo(2)]);
  await new Queue(backend, { name: "b" }).add(echo(3));
  return backend;
}

describe("GET /metrics", () => {
  it("answers the exposition of every queue the backend lists", async () => {
    const handler = createHttpHandler(await setup(), { basePath: "/sheppy" });
    const response = await handler(new Request(`${ORIGIN}/sheppy/metrics`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
    const parsed = parseExposition(await response.text());
    const labels = (queue: string) => ({ queue, task: "http-metrics.echo" });
    expect(sampleValue(parsed, "sheppy_tasks_added_total", labels("a"))).toBe(2);
    expect(sampleValue(parsed, "sheppy_tasks_completed_total", labels("b"))).toBe(1);
    expect(sampleValue(parsed, "sheppy_queue_tasks", { queue: "a", status: "completed" })).toBe(2);
    expect(sampleValue(parsed, "sheppy_queue_tasks", { queue: "b", status: "completed" })).toBe(1);
  });

  it("answers only the queues ?queue= names, comma-separated", async () => {
    const handler = createHttpHandler(await setup());
    const response = await handler(new Request(`${ORIGIN}/metrics?queue=b,%20nothing-here`));
    const parsed = parseExposition(await response.text());
    const queues = new Set(parsed.get("sheppy_queue_tasks")?.samples.map((s) => s.labels.queue));
    expect(queues).toEqual(new Set(["b", "nothing-here"]));
    expect(parsed.get("sheppy_tasks_added_total")?.samples.map((s) => s.labels.queue)).toEqual([
      "b",
    ]);
    const bad = await handler(new Request(`${ORIGIN}/metrics?queue=no/slash`));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/Invalid queue name/);
    // A list naming no queue is a mistake, not a scrape of nothing; so is an empty name in a list.
    for (const empty of ["", ",", "%20,%20", "a,,b", "a,"]) {
      const none = await handler(new Request(`${ORIGIN}/metrics?queue=${empty}`));
      expect(none.status, empty).toBe(400);
      expect(((await none.json()) as { error: string }).error).toMatch(
        /queue must name queues, separated by single commas/,
      );
    }
    // One URL naming thousands of queues would cost reads and series for each: at most 100.
    const many = Array.from({ length: 101 }, (_, i) => `q${i}`).join(",");
    const tooMany = await handler(new Request(`${ORIGIN}/metrics?queue=${many}`));
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { error: string }).error).toBe(
      "/metrics: queue names at most 100 queues (got 101); leave it out for every queue",
    );
    const hundred = Array.from({ length: 100 }, (_, i) => `q${i}`).join(",");
    expect((await handler(new Request(`${ORIGIN}/metrics?queue=${hundred}`))).status).toBe(200);
  });

  it("a backend that lists no queue yet answers 200: an empty scrape, not a mistake", async () => {
    const backend = new MemoryBackend();
    backends.push(backend);
    const response = await createHttpHandler(backend)(new Request(`${ORIGIN}/metrics`));
    expect([response.status, response.headers.get("content-type")]).toEqual([
      200,
      PROMETHEUS_CONTENT_TYPE,
    ]);
    expect(parseExposition(await response.text()).get("sheppy_queue_tasks")?.samples ?? []).toEqual(
      [],
    );
  });

  it("asks authorize first", async () => {
    const handler = createHttpHandler(await setup(), {
      authorize: (request) => request.headers.get("authorization") === "Bearer scrape",
    });
    expect((await handler(new Request(`${ORIGIN}/metrics`))).status).toBe(403);
    const allowed = await handler(
      new Request(`${ORIGIN}/metrics`, { headers: { authorization: "Bearer scrape" } }),
    );
    expect(allowed.status).toBe(200);
  });

  it("is in the OpenAPI document with its media type", async () => {
    const handler = createHttpHandler(await setup(), { basePath: "/sheppy" });
    const doc = (await (await handler(new Request(`${ORIGIN}/sheppy/openapi.json`))).json()) as {
      paths: Record<
        string,
        {
          get?: {
            parameters: { name: string }[];
            responses: Record<string, { content: Record<string, unknown> }>;
          };
        }
      >;
    };
    const get = doc.paths["/metrics"]?.get;
    expect(get?.responses["200"]?.content).toHaveProperty([PROMETHEUS_CONTENT_TYPE]);
    expect(get?.parameters.map((p) => p.name)).toEqual(["queue"]);
  });
});
