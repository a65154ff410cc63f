/**
 * The HTTP API's event stream while the backend does not answer: a stream
 * opened (or reopened by the browser) during an outage must stay open and
 * say so, then pick up finished tasks once the backend is back — not end,
 * which a browser would reopen in the same outage without ever saying why.
 */
import { Queue, task } from "sheppy";
import { MemoryBackend } from "sheppy/backends/memory";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const echo = task({ name: "http-events-outage.echo" }, (n: number) => n);

/** A memory backend whose listening for finished tasks fails while `down` is set. */
class FlakyListening extends MemoryBackend {
  down = true;
  attempts = 0;

  override async watchFinished(queue: string, listener: (ids: readonly string[]) => void) {
    this.attempts++;
    if (this.down) throw new Error("the backend did not answer");
    return super.watchFinished(queue, listener);
  }
}

/** Reads the stream's text until `done` says it holds what is wanted. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error(`the stream ended; it held:\n${text}`);
    text += decoder.decode(value);
  }
  return text;
}

describe("the event stream during an outage", () => {
  it("stays open when it cannot listen for finished tasks, says the backend did not answer, and listens once it can", async () => {
    const backend = new FlakyListening({ instantProcessing: false });
    const handler = createHttpHandler(backend);
    const controller = new AbortController();
    const response = await handler(
      new Request("http://localhost/emails/events", { signal: controller.signal }),
    );
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    try {
      const first = await readUntil(reader, (text) => text.includes("event: stats"));
      expect(first).toMatch(/^event: unavailable\ndata: {"error":"the backend did not answer"}/);
      // Back: the next stats tick (every 5 s) listens again, and finished tasks reach the stream.
      backend.down = false;
      const later = await readUntil(reader, () => backend.attempts >= 2);
      expect(later).not.toContain("finished");
      await new Promise((resolve) => setTimeout(resolve, 50));
      const t = echo(1);
      const queue = new Queue(backend, { name: "emails" });
      await queue.add(t);
      const [claim] = await backend.claim("emails", 1);
      await backend.settle(
        "emails",
        [
          {
            fence: claim!.fence,
            record: { ...claim!.record, status: "completed", finishedAt: new Date().toISOString() },
            children: [],
            expiresAt: null,
          },
        ],
        Date.now(),
      );
      const finished = await readUntil(reader, (text) => text.includes("event: finished"));
      expect(finished).toContain(t.id);
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
  }, 20_000);
});
