/**
 * A change's body holds only the fields its route takes: a route that takes
 * none refuses `{ "force": true }`, and one that takes some refuses a
 * misspelt one — each with a 400 whose one line names the field and the
 * route — so a client never believes a field was honoured that was ignored.
 * An empty body and `{}` stay accepted where a route takes no fields.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { Queue, step, task, workflow } from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ROUTES, type Route } from "../../src/http/routes.js";

const add = task({ name: "http-body-fields.add" }, (a: number, b: number) => a + b);
const sum = workflow({ name: "http-body-fields.sum" }, function* (a: number, b: number) {
  return (yield* step(add(a, b))).result;
});

const ORIGIN = "http://localhost";

function api() {
  const queue = new Queue("memory://?instantProcessing=false", { name: "emails" });
  const handler = createHttpHandler(queue.backend);
  const call = async (method: string, path: string, body?: string) => {
    const response = await handler(
      new Request(`${ORIGIN}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body }),
      }),
    );
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  return { queue, call };
}

/** The fields a route's body takes (none when it has no body schema). */
const fieldsOf = (route: Route) =>
  route.body
    ? Object.keys(
        z.toJSONSchema(route.body, { io: "input", unrepresentable: "any" }).properties ?? {},
      )
    : [];

/** The changes whose route takes no body fields, with their path filled in. */
const bodyless = ROUTES.filter((route) => route.mutating && fieldsOf(route).length === 0).map(
  (route) => ({
    route,
    path: route.path.replace("{queue}", "emails").replace(/\{\w+\}/g, randomUUID()),
  }),
);

describe("unknown fields in a change's body", () => {
  it("covers every change that takes no body, DELETE included", () => {
    expect(bodyless.map(({ route }) => `${route.method} ${route.path}`).sort()).toEqual([
      "DELETE /{queue}/tasks/{id}",
      "DELETE /{queue}/workflows/{id}",
      "POST /{queue}/pause",
      "POST /{queue}/resume",
      "POST /{queue}/tasks/clear",
      "POST /{queue}/workflows/{id}/retry",
    ]);
  });

  it.each(bodyless)(
    "$route.method $route.path refuses a body with a field, naming it and the route",
    async ({ route, path }) => {
      const { call } = api();
      const refused = await call(route.method, path, '{"force":true}');
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe(
        `unknown field 'force' in the body of ${route.method} ${route.path} (it takes none)`,
      );
      const several = await call(route.method, path, '{"force":true,"reason":"x"}');
      expect(several.body.error).toBe(
        `unknown fields 'force', 'reason' in the body of ${route.method} ${route.path} (it takes none)`,
      );
      // Neither an empty body nor {} is a 400: they get past validation to the route itself.
      expect((await call(route.method, path, "{}")).status).not.toBe(400);
      expect((await call(route.method, path)).status).not.toBe(400);
    },
  );

  it("a refused body changes nothing; {} and an empty body do what the route does", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    expect((await call("POST", "/emails/pause", '{"force":true}')).status).toBe(400);
    expect(await queue.isPaused()).toBe(false);
    expect(await call("POST", "/emails/pause", "{}")).toEqual({
      status: 200,
      body: { queue: "emails", paused: true },
    });
    expect(await call("POST", "/emails/resume")).toEqual({
      status: 200,
      body: { queue: "emails", paused: false },
    });
    const pending = add(3, 4);
    await queue.add(pending);
    const cancel = `/emails/tasks/${pending.id}/cancel`;
    expect((await call("POST", cancel, '{"forse":true}')).status).toBe(400);
    expect((await queue.getTask(pending.id))?.status).toBe("pending");
    expect((await call("POST", cancel, "{}")).body).toMatchObject({ status: "cancelled" });
  });

  it("a body that is not an object is refused where the route takes no fields", async () => {
    const { call } = api();
    for (const body of ["null", "[]", '"force"', "true"]) {
      const refused = await call("POST", "/emails/pause", body);
      expect([body, refused.status]).toEqual([body, 400]);
      expect(refused.body.error).toMatch(
        /^invalid body: Invalid input: expected object, received /,
      );
    }
  });

  it("routes that take fields refuse an unknown one the same way, listing the ones they take", async () => {
    const { queue, call } = api();
    const added = await call(
      "POST",
      "/emails/tasks",
      '{"name":"http-body-fields.add","args":[1,2],"priority":5}',
    );
    expect(added.status).toBe(400);
    expect(added.body.error).toBe(
      "unknown field 'priority' in the body of POST /{queue}/tasks (it takes name, args, id)",
    );
    expect(await queue.size()).toBe(0);
    // A misspelt required field: the unknown one is named, not only the missing one.
    const misspelt = await call("POST", "/emails/tasks", '{"nmae":"http-body-fields.add"}');
    expect(misspelt.body.error).toBe(
      "unknown field 'nmae' in the body of POST /{queue}/tasks (it takes name, args, id)",
    );
    const retry = await call("POST", `/emails/tasks/${randomUUID()}/retry`, '{"forse":true}');
    expect([retry.status, retry.body.error]).toEqual([
      400,
      "unknown field 'forse' in the body of POST /{queue}/tasks/{id}/retry (it takes at, force)",
    ]);
    expect(retry.body.issues).toEqual([
      expect.objectContaining({ code: "unrecognized_keys", keys: ["forse"] }),
    ]);
  });

  it("the OpenAPI document says a change that takes no fields takes an object without properties: required on a POST (its JSON type is the proof it is no form), optional on a DELETE", async () => {
    const handler = createHttpHandler("memory://?instantProcessing=false");
    const doc = (await (await handler(new Request(`${ORIGIN}/openapi.json`))).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    for (const { route } of bodyless) {
      expect(doc.paths[route.path]?.[route.method.toLowerCase()]?.requestBody).toEqual({
        required: route.method === "POST",
        content: {
          "application/json": {
            schema: { type: "object", properties: {}, additionalProperties: false },
          },
        },
      });
    }
  });

  it("a field of the wrong value says what it takes and what was sent, inside a list too", async () => {
    const { queue, call } = api();
    await queue.add(add(1, 2));
    const said = async (body: unknown) =>
      (await call("POST", "/emails/tasks/retry", JSON.stringify(body))).body.error as string;
    const statuses = 'expected one of "failed"|"crashed"|"cancelled"';
    expect(await said({ status: "pending" })).toBe(
      `invalid body: status: Invalid option: ${statuses} (got "pending")`,
    );
    expect(await said({ status: ["failed", "bogus"] })).toBe(
      `invalid body: status.1: Invalid option: ${statuses} (got "bogus")`,
    );
    expect(await said({ status: 5 })).toBe(
      `invalid body: status: Invalid option: ${statuses} (got 5)`,
    );
    expect(await said({ dryRun: "yes" })).toBe(
      'invalid body: dryRun: Invalid input: expected boolean, received string (got "yes")',
    );
    expect(await said({ name: "x".repeat(100), dryRun: 1 })).toBe(
      "invalid body: dryRun: Invalid input: expected boolean, received number (got 1)",
    );
    expect(await said({ error: "" })).toMatch(/^invalid body: error: Too small: .* \(got ""\)$/);
    expect(await queue.size()).toBe(1);
  });

  it("property: any JSON body of a bulk action is a success or a one-line 400, never a 500, and a refusal changes nothing", async () => {
    const { queue, call } = api();
    const pending = add(1, 2);
    await queue.add(pending);
    const field = fc.constantFrom(
      "status",
      "name",
      "concurrencyKey",
      "since",
      "before",
      "error",
      "force",
      "dryRun",
      "batchSize",
    );
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom("failed", "pending", ["failed", "crashed"], [], 3600, "1h", true),
    );
    const body = fc.dictionary(field, value, { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("retry", "cancel", "delete"), body, async (action, sent) => {
        // A preview, so that an accepted body changes nothing either.
        const answer = await call(
          "POST",
          `/emails/tasks/${action}`,
          JSON.stringify({ ...sent, dryRun: true }),
        );
        expect([200, 400, 403]).toContain(answer.status);
        if (answer.status !== 200) {
          expect(typeof answer.body.error).toBe("string");
          expect(answer.body.error).not.toContain("\n");
        }
        expect((await queue.getTask(pending))?.status).toBe("pending");
      }),
      { numRuns: 150 },
    );
  });

  it("property: any JSON body of POST /workflows starts one workflow (201) or is a one-line 400 or 403 that starts nothing, never a 500", async () => {
    const { queue, call } = api();
    const field = fc.constantFrom("name", "args", "id", "nmae");
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        sum.workflowName,
        add.taskName,
        "workflow:http-body-fields.sum",
        [1, 2],
        "",
        "order-1",
      ),
    );
    const body = fc.dictionary(field, value, { maxKeys: 4 });
    let started = 0;
    await fc.assert(
      fc.asyncProperty(body, async (sent) => {
        const before = (await queue.getAllWorkflows()).length;
        const answer = await call("POST", "/emails/workflows", JSON.stringify(sent));
        expect([201, 400, 403]).toContain(answer.status);
        const after = (await queue.getAllWorkflows()).length;
        if (answer.status === 201) {
          expect(answer.body.workflow.name).toBe(sum.workflowName);
          expect(after - before).toBe(answer.body.added ? 1 : 0);
          if (answer.body.added) started++;
        } else {
          expect(typeof answer.body.error).toBe("string");
          expect(answer.body.error).not.toContain("\n");
          expect(after).toBe(before);
        }
      }),
      { numRuns: 200 },
    );
    expect((await queue.getAllWorkflows()).length).toBe(started);
  });
});
