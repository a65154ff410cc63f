/**
 * The HTTP API's event stream holds a bounded amount for a client slower
 * than the queue: during a burst of adds, a client that reads nothing keeps
 * the stream from reading the log further once its buffer is full (so many
 * such clients cannot run the server out of memory), and once it reads it
 * gets every event, in order, with none missing. The Node.js adapter passes
 * that on: it reads no more of a body while the socket has not drained.
 */
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { Queue, task } from "sheppy";
import type { EventReadRequest } from "sheppy/backend";
import { MemoryBackend } from "sheppy/backends/memory";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { writeResponse } from "../../src/http/node-adapter.js";

const echo = task({ name: "http-events-backpressure.echo" }, (n: number) => n);
const BURST = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory backend that counts the events its log's reads hand out. */
class CountingReads extends MemoryBackend {
  handedOut = 0;

  override async readEvents(queue: string, request: EventReadRequest) {
    const events = await super.readEvents(queue, request);
    this.handedOut += events.length;
    return events;
  }
}

/** Positions and types of the `task` events in SSE `text`. */
function taskEvents(text: string): { id: string; type: string }[] {
  return [...text.matchAll(/id: (\S+)\nevent: task\ndata: (.*)\n\n/g)].map((m) => ({
    id: m[1]!,
    type: (JSON.parse(m[2]!) as { type: string }).type,
  }));
}

/** Adds `BURST` tasks in one call, as a bulk import would. */
async function burst(backend: MemoryBackend): Promise<void> {
  const queue = new Queue(backend, { name: "bulk" });
  await queue.add(Array.from({ length: BURST }, (_, n) => echo(n)));
}

/** Every `added` of the burst arrived, in log order (positions grow), once each. */
function expectWholeBurst(text: string): void {
  const added = taskEvents(text).filter((e) => e.type === "added");
  expect(added).toHaveLength(BURST);
  const positions = added.map((e) => Number(e.id));
  expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
}

describe("the event stream for a client slower than the queue", () => {
  it("through the handler: reads the log no further than its buffer holds, then hands the client every event once it reads", async () => {
    const backend = new CountingReads({ instantProcessing: false, eventCap: 100_000 });
    const handler = createHttpHandler(backend);
    const controller = new AbortController();
    const response = await handler(
      new Request("http://localhost/bulk/events", { signal: controller.signal }),
    );
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    try {
      // The stream follows the log from when it opened: from its first counts on.
      while (!text.includes("event: stats")) text += decoder.decode((await reader.read()).value);
      await burst(backend);
      await sleep(500);
      // Each `added` event is over 200 bytes of SSE: the buffer holds about a thousand, plus a page.
      expect(backend.handedOut).toBeGreaterThan(0);
      expect(backend.handedOut).toBeLessThan(3000);
      // Counted chunk by chunk (looking through the whole text at each read would take
      // minutes), with the end of the last chunk kept, for a mark split between two reads.
      const mark = "\nevent: task\n";
      const chunks = [text];
      let received = 0;
      let tail = "";
      while (received < BURST) {
        const { value, done } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        chunks.push(chunk);
        const window = tail + chunk;
        received += window.split(mark).length - 1;
        tail = window.slice(-(mark.length - 1));
      }
      text = chunks.join("");
      expectWholeBurst(text);
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
  });

  it("the Node.js adapter takes no more of a body while the socket has not drained", async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          controller.enqueue(new Uint8Array(1024));
        },
      },
      { highWaterMark: 4 },
    );
    // A client that takes nothing: every write is over the socket's mark, and no drain comes.
    const response = Object.assign(new EventEmitter(), {
      statusCode: 0,
      destroyed: false,
      written: 0,
      setHeader: () => undefined,
      flushHeaders: () => undefined,
      write(): boolean {
        this.written++;
        return false;
      },
      end: () => undefined,
    });
    const writing = writeResponse(new Response(body), response as unknown as ServerResponse);
    await sleep(200);
    expect(response.written).toBe(1);
    expect(pulls).toBeLessThanOrEqual(6);
    response.emit("drain");
    await sleep(50);
    expect(response.written).toBe(2);
    response.emit("close");
    await writing;
  });
});
