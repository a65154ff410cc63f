/**
 * `maxBodyBytes` holds for a body of unknown length (chunked) too: it is
 * counted as it arrives and refused at the limit with a 413, instead of being
 * read whole first — a body sent endlessly is answered, not held in memory.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { createHttpHandler, toNodeHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const LIMIT = 1000;

/** A body that never ends, counting the bytes read from it. */
function endless(): { body: ReadableStream<Uint8Array>; read: () => number } {
  let read = 0;
  const chunk = new TextEncoder().encode(`[${"1,".repeat(100)}`);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      read += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { body, read: () => read };
}

describe("maxBodyBytes on a body without a length", () => {
  it("the fetch handler answers 413 having read little more than the limit", async () => {
    const handler = createHttpHandler("memory://?instantProcessing=false", {
      maxBodyBytes: LIMIT,
    });
    const { body, read } = endless();
    const response = await handler(
      new Request("http://localhost/q/tasks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        duplex: "half",
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: `the body is over ${LIMIT} bytes` });
    expect(read()).toBeLessThan(LIMIT * 4);
  });

  it("over Node's http, a chunked upload past the limit gets its 413 and the server goes on", async () => {
    const handler = createHttpHandler("memory://?instantProcessing=false", {
      maxBodyBytes: LIMIT,
    });
    const server = createServer(toNodeHandler(handler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const status = await new Promise<string>((resolve, reject) => {
        let answer = "";
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(
            "POST /q/tasks HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
          );
          // 2 MB in 1 KiB chunks, never ended: far over the limit.
          const piece = "x".repeat(1024);
          for (let i = 0; i < 2048 && !socket.destroyed; i++) {
            socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
          }
        });
        socket.on("data", (data) => {
          answer += String(data);
          if (answer.includes("\r\n")) {
            socket.destroy();
            resolve(answer.split("\r\n")[0]!);
          }
        });
        socket.on("error", reject);
      });
      expect(status).toBe("HTTP/1.1 413 Payload Too Large");
      expect((await fetch(`http://127.0.0.1:${port}/queues`)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
