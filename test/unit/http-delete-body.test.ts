/**
 * A DELETE without a body needs no JSON content type — also when the
 * framework in front (Next.js's route handlers) hands the handler an empty
 * body stream for it; one that declares a body still does.
 */
import { randomUUID } from "node:crypto";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const emptyStream = () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });

describe("a DELETE's body", () => {
  const handler = createHttpHandler("memory://");
  const url = `http://localhost/default/tasks/${randomUUID()}`;

  it("none, or an empty stream with no length declared: not asked for a JSON type (here a 404: no such task)", async () => {
    expect((await handler(new Request(url, { method: "DELETE" }))).status).toBe(404);
    const framed = new Request(url, {
      method: "DELETE",
      body: emptyStream(),
      duplex: "half",
    } as RequestInit);
    expect(framed.body).not.toBeNull();
    expect((await handler(framed)).status).toBe(404);
  });

  it("a body it declares (a length, or chunked) needs the JSON type", async () => {
    // As a server adapter hands it over: the length from the wire among the headers.
    const declared = new Request(url, {
      method: "DELETE",
      body: "{}",
      headers: { "content-type": "text/plain", "content-length": "2" },
    });
    expect(declared.headers.get("content-length")).toBe("2");
    expect((await handler(declared)).status).toBe(415);
    const chunked = new Request(url, {
      method: "DELETE",
      body: emptyStream(),
      duplex: "half",
      headers: { "transfer-encoding": "chunked" },
    } as RequestInit);
    expect((await handler(chunked)).status).toBe(415);
  });
});
