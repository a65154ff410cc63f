/**
 * @module sheppy/http
 * The HTTP API: `createHttpHandler(backend, options)` gives a web-standard
 * fetch handler (Hono, Next.js route handlers, Bun, Deno), `toNodeHandler`
 * adapts it to Node's `http` and Express. Its routes and their OpenAPI
 * document (`GET /openapi.json`) come from one table.
 */
export { HttpError } from "./api-error.js";
export { type BasicAuthCredentials, basicAuth, bearerAuth } from "./credentials.js";
export { fastifyPlugin } from "./fastify-adapter.js";
export { createHttpHandler, type HttpHandler, type HttpHandlerOptions } from "./handler.js";
export { toNodeHandler } from "./node-adapter.js";
