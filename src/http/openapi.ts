/**
 * @module http/openapi
 * The OpenAPI 3.1 document of the HTTP API, generated from the same route
 * table the handler routes by: paths, parameters, query strings and bodies
 * (their JSON Schemas from the routes' zod schemas).
 */
import { z } from "zod";
import { VERSION } from "../util/version.js";
import type { Route } from "./routes.js";

type JsonObject = Record<string, unknown>;

const ERROR_RESPONSE = {
  description: "An error: `{ error }`, with `issues` for invalid input",
  content: {
    "application/json": {
      schema: {
        type: "object",
        properties: { error: { type: "string" }, issues: { type: "array" } },
        required: ["error"],
      },
    },
  },
};

function schemaOf(schema: z.ZodType, io: "input" | "output" = "input"): JsonObject {
  return z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonObject;
}

function operation(route: Route): JsonObject {
  const parameters: JsonObject[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  if (route.query) {
    const query = schemaOf(route.query);
    const properties = (query.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(properties)) {
      parameters.push({ name, in: "query", required: required.has(name), schema });
    }
  }
  const op: JsonObject = {
    summary: route.summary,
    operationId: `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, "By-$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    parameters,
    responses: {
      [String(route.status ?? 200)]: {
        description: route.stream ? "A stream" : "Success",
        content: { [route.stream ?? "application/json"]: { schema: {} } },
      },
      "400": ERROR_RESPONSE,
      "404": ERROR_RESPONSE,
      ...(route.mutating
        ? { "403": ERROR_RESPONSE, "409": ERROR_RESPONSE, "415": ERROR_RESPONSE }
        : {}),
    },
  };
  if (route.mutating) {
    op.requestBody = {
      required: false,
      content: {
        "application/json": { schema: route.body ? schemaOf(route.body) : { type: "object" } },
      },
    };
  }
  return op;
}

/** The document for `routes` mounted under `basePath`. */
export function openApiDocument(routes: readonly Route[], basePath: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = `${basePath}${route.path}`;
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Sheppy HTTP API", version: VERSION },
    paths,
  };
}
