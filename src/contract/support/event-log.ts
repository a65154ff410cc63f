/** Reading a queue's whole event log in contract cases. */
import type { Backend } from "../../backends/backend.js";
import type { QueueEvent } from "../../index.js";
import { readEvent } from "../../task/lifecycle-event.js";

/** Every event the log of `queue` holds, oldest first. */
export async function logOf(backend: Backend, queue: string): Promise<QueueEvent[]> {
  const out: QueueEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await backend.readEvents(queue, { after, limit: 500 });
    if (page.length === 0) return out;
    for (const { id, body } of page) out.push(readEvent(queue, id, body));
    after = page[page.length - 1]!.id;
  }
}
