/**
 * The OpenAPI document says what every success answers — a client generated
 * from it gets typed bodies — and lists what any route may answer besides:
 * the application's own `authorize` answer, and the document itself.
 */
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { RESPONSES } from "../../src/http/response-schemas.js";
import { ROUTES } from "../../src/http/routes.js";

type Operation = {
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  parameters: { name: string; schema: Record<string, unknown> }[];
};

async function documentOf(): Promise<{
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}> {
  const answer = await createHttpHandler("memory://")(new Request("http://localhost/openapi.json"));
  return answer.json() as never;
}

describe("the OpenAPI document's answers", () => {
  it("every JSON route has its success body described, and no description names a route that is not there", async () => {
    const doc = await documentOf();
    const json = ROUTES.filter((route) => !route.stream && !route.media);
    expect(Object.keys(RESPONSES).sort()).toEqual(
      json.map((route) => `${route.method} ${route.path}`).sort(),
    );
    for (const route of json) {
      const operation = doc.paths[route.path]![route.method.toLowerCase()]!;
      const success = operation.responses[String(route.status ?? 200)]!;
      const schema = success.content!["application/json"]!.schema;
      expect(Object.keys(schema).length, `${route.method} ${route.path}`).toBeGreaterThan(0);
      expect(operation.responses["401"], `${route.method} ${route.path}`).toBeDefined();
    }
    // Shared shapes are defined once, and every reference resolves.
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Task", "TaskSummary", "StoredError", "Workflow", "Cron"]),
    );
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas[name!], name).toBeDefined();
    }
    expect(doc.components.schemas.Task!.additionalProperties).toBe(false);
    // No shape is only a reference to itself: every one says what it holds.
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(schema.$ref, name).not.toBe(`#/components/schemas/${name}`);
    }
    expect(doc.components.schemas.Error).toMatchObject({
      type: "object",
      properties: { error: { type: "string" } },
      required: expect.arrayContaining(["error"]),
    });
  });

  it("the queue parameter carries the name's pattern, and the document lists itself", async () => {
    const doc = await documentOf();
    const stats = doc.paths["/{queue}/stats"]!.get!;
    expect(stats.parameters.find((p) => p.name === "queue")?.schema).toEqual({
      type: "string",
      pattern: "^(?!\\.{1,2}$)[A-Za-z0-9_.:-]{1,128}$",
    });
    expect(doc.paths["/openapi.json"]?.get).toBeDefined();
    // The pattern refuses what the server refuses: '.' and '..' alone.
    const pattern = new RegExp(String(stats.parameters[0]!.schema.pattern));
    expect(["shop", "a.b", "..x"].map((name) => pattern.test(name))).toEqual([true, true, true]);
    expect([".", "..", "a b", ""].map((name) => pattern.test(name))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    // Every answer has content a generated client can narrow on: the errors', and authorize's own.
    expect(stats.responses["404"]!.content!["application/json"]!.schema).toEqual({
      $ref: "#/components/schemas/Error",
    });
    expect(stats.responses["401"]!.content).toEqual({ "*/*": { schema: {} } });
  });
});
