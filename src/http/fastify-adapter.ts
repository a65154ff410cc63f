/**
 * @module http/fastify-adapter
 * `fastifyPlugin`: the HTTP API as a Fastify plugin. Fastify parses bodies
 * itself, so the plugin takes every method under its prefix raw (no body
 * parsing of its own for JSON) and hands Node's request to the fetch handler
 * through the same bridge as `toNodeHandler`. No Fastify import: the plugin
 * is a plain function of the shape Fastify calls.
 * @example
 * await app.register(fastifyPlugin(createHttpHandler(url, { basePath: "/sheppy" })), { prefix: "/sheppy" });
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerWith } from "./node-adapter.js";

/** What the plugin needs of a Fastify instance. */
interface FastifyLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    parse: (request: unknown, payload: unknown, done: (error: null) => void) => void,
  ): void;
  route(options: {
    method: string[];
    url: string;
    handler: (
      request: { raw: IncomingMessage },
      reply: { raw: ServerResponse; hijack(): void },
    ) => Promise<void>;
  }): void;
}

/** A Fastify plugin serving `handler` under the prefix it is registered with. */
export function fastifyPlugin(handler: (request: Request) => Promise<Response>) {
  return async (app: FastifyLike): Promise<void> => {
    // The fetch handler reads the body itself: leave the stream unread.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, done) => done(null));
    // The prefix itself too (`/sheppy`, the dashboard's page), not only what is below it.
    for (const url of ["/", "/*"]) {
      app.route({
        method: ["GET", "POST", "DELETE", "PUT", "PATCH"],
        url,
        handler: async (request, reply) => {
          reply.hijack();
          await answerWith(handler, request.raw, reply.raw);
        },
      });
    }
  };
}
