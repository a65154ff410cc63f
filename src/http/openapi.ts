/**
 * @module http/openapi
 * The OpenAPI 3.1 document of the HTTP API, generated from the same route
 * table the handler routes by: paths, parameters, query strings and bodies
 * (their JSON Schemas from the routes' zod schemas), and what each success
 * answers (from `response-schemas.ts`, which the contract suite checks every
 * answer against).
 */
import { z } from "zod";
import { VERSION } from "../util/version.js";
import { errorBody, RESPONSES } from "./response-schemas.js";
import type { Route } from "./routes.js";

type JsonObject = Record<string, unknown>;
/** Shared definitions of the document (`components.schemas`), filled as routes are described. */
type Components = Record<string, unknown>;

const ERROR_RESPONSE = {
  description: "An error: `{ error }`; invalid input adds the validator's `issues`",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

/** What a queue name in a path may be (anything else is a 400). */
const QUEUE_NAME = { type: "string", pattern: "^(?!\\.{1,2}$)[A-Za-z0-9_.:-]{1,128}$" };

/** Whatever the application's `authorize` answers instead of letting the request through. */
const AUTHORIZE_RESPONSE = {
  description:
    "The application's own answer from `authorize` (a 401 asking for a login, a redirect…): its status and body are the application's",
  content: { "*/*": { schema: {} } },
};

/**
 * What no operation can say of itself: the answers to a method or a path the
 * document does not list.
 */
const DESCRIPTION =
  "Every error is JSON: `{ error }`, a one-line message. A path listed here, asked with a method it does not list, is a 405 whose `Allow` header lists the methods it takes; a path not listed is a 404. A field a request body does not list is a 400 naming it.";

/** `GET /{queue}/tasks` → `GetQueueTasks`: a name for a route's shared definitions. */
function nameOf(route: Route): string {
  return `${route.method} ${route.path}`
    .toLowerCase()
    .replace(/[^a-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())
    .replace(/^./, (c) => c.toUpperCase());
}

/**
 * A zod schema as JSON Schema inside the document: its own `$defs` (a
 * recursive JSON value, say) move to `components.schemas` and its references
 * point there, since `#/…` resolves from the document's root.
 */
function schemaOf(
  schema: z.ZodType,
  components: Components,
  prefix: string,
  io: "input" | "output" = "input",
): JsonObject {
  const {
    $defs,
    $schema: _schema,
    ...rest
  } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
  }) as JsonObject & { $defs?: Record<string, unknown> };
  // A shared definition (its own id: Task, Workflow…) keeps its name, so every route points at one.
  const rename = (name: string) =>
    /^[A-Z][A-Za-z]*$/.test(name) ? name : `${prefix}${name.replace(/[^A-Za-z0-9]/g, "")}`;
  const relink = (value: unknown): JsonObject =>
    JSON.parse(
      JSON.stringify(value).replace(
        /"#\/\$defs\/([^"]+)"/g,
        (_, name: string) => `"#/components/schemas/${rename(name)}"`,
      ),
    ) as JsonObject;
  for (const [name, definition] of Object.entries($defs ?? {})) {
    components[rename(name)] = relink(definition);
  }
  return relink(rest);
}

function operation(route: Route, components: Components): JsonObject {
  const prefix = nameOf(route);
  const parameters: JsonObject[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: name === "queue" ? QUEUE_NAME : { type: "string" },
  }));
  if (route.query) {
    const query = schemaOf(route.query, components, `${prefix}Query`);
    const properties = (query.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(properties)) {
      parameters.push({ name, in: "query", required: required.has(name), schema });
    }
  }
  const answer = RESPONSES[`${route.method} ${route.path}`];
  const op: JsonObject = {
    summary: route.summary,
    operationId: prefix.replace(/^./, (c) => c.toLowerCase()),
    parameters,
    responses: {
      [String(route.status ?? 200)]: {
        description: route.stream ? "A stream" : "Success",
        content: {
          [route.stream ?? route.media ?? "application/json"]: {
            schema:
              route.stream || route.media
                ? { type: "string" }
                : schemaOf(answer!, components, `${prefix}Response`, "output"),
          },
        },
      },
      "400": ERROR_RESPONSE,
      "401": AUTHORIZE_RESPONSE,
      "403": ERROR_RESPONSE,
      "404": ERROR_RESPONSE,
      ...(route.mutating
        ? { "409": ERROR_RESPONSE, "413": ERROR_RESPONSE, "415": ERROR_RESPONSE }
        : {}),
      "500": ERROR_RESPONSE,
      "503": ERROR_RESPONSE,
    },
  };
  if (route.mutating) {
    const schema = route.body
      ? schemaOf(route.body, components, `${prefix}Body`)
      : { type: "object" };
    // A POST needs its JSON body (even `{}`): the JSON type is what no cross-site form can send.
    // A DELETE may send none.
    op.requestBody = {
      required:
        route.method === "POST" || (Array.isArray(schema.required) && schema.required.length > 0),
      content: { "application/json": { schema } },
    };
  }
  return op;
}

/**
 * The document for `routes`. Its paths are the API's own, under one server
 * whose address is relative to the document's (`.`): a client resolves it
 * where it fetched the document, so behind a proxy that serves the API
 * under another prefix (`/admin/` for an app's `/ops/queues/`) it calls the
 * prefix it reached, not the one the application mounted.
 */
export function openApiDocument(routes: readonly Route[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  const components: Components = {};
  for (const route of routes) {
    const path = route.path;
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, components) };
  }
  paths["/openapi.json"] = {
    get: {
      summary: "This document",
      operationId: "getOpenApiDocument",
      responses: {
        "200": { description: "Success", content: { "application/json": { schema: {} } } },
        "401": AUTHORIZE_RESPONSE,
        "403": ERROR_RESPONSE,
      },
    },
  };
  // The error body has its own id: its schema lands in the components under it, and the
  // root is then a reference to that entry — which must not overwrite it.
  const error = schemaOf(errorBody, components, "Error", "output");
  if (error.$ref !== "#/components/schemas/Error") components.Error = error;
  return {
    openapi: "3.1.0",
    info: { title: "Sheppy HTTP API", version: VERSION, description: DESCRIPTION },
    servers: [
      {
        url: ".",
        description:
          "where this document was fetched from: the API's paths are relative to it (its base path, or a proxy's prefix)",
      },
    ],
    paths,
    components: { schemas: components },
  };
}
