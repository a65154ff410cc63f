/** Reading a queue's whole event log in contract cases. */
import type { Backend } from "../../backends/backend.js";
import type { QueueEvent } from "../../index.js";
import { bodyAfterPage } from "../../queue/queue-events.js";
import { readEventPage } from "../../task/lifecycle-event.js";

/** Every event the log of `queue` holds, oldest first. */
export async function logOf(backend: Backend, queue: string): Promise<QueueEvent[]> {
  const out: QueueEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await backend.readEvents(queue, { after, limit: 500 });
    if (page.length === 0) return out;
    out.push(...readEventPage(queue, page, await bodyAfterPage(backend, queue, page)));
    after = page[page.length - 1]!.id;
  }
}
