/**
 * `queue.close()` while an add the caller did not await is still under way
 * (the add started the backend's connect): the add ends first — stored —
 * and the close then disconnects, leaving no connection open behind it to
 * keep the process alive. A backend's `disconnect()` during its `connect()`
 * likewise waits for the connect and then closes it. On each of Sheppy's
 * backends.
 */
import { Queue, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { eachBackend } from "../support/each-backend.js";
import { fileKey } from "../support/isolation.js";

const { backends, cleanUp } = await eachBackend(fileKey(import.meta.url), {
  instantProcessing: false,
});
afterAll(cleanUp);

const note = task({ name: "close-during-add.note" }, (n: number) => n);

describe.each(backends)("%s", (name, available, make) => {
  // Skipped only when its service is unreachable outside CI; under CI=true requireService fails instead.
  it.skipIf(!available)(
    "close() lets adds and schedules the caller did not await end first; they are stored",
    async () => {
      const backend = make();
      const queue = new Queue(backend, { name: `unawaited-${name}` });
      const added = note(1);
      const scheduled = note(2);
      const adding = queue.add(added);
      const scheduling = queue.schedule(scheduled, 3600);
      await queue.close();
      expect(backend.isConnected).toBe(false);
      expect(await adding).toBe(true);
      expect(await scheduling).toBe(true);
      await backend.connect();
      try {
        const stored = await backend.getTasks(queue.name, [added.id, scheduled.id]);
        expect([...stored.values()].map((r) => r.status).sort()).toEqual(["pending", "scheduled"]);
      } finally {
        await backend.disconnect();
      }
    },
  );

  // Skipped only when its service is unreachable outside CI, as above.
  it.skipIf(!available)(
    "disconnect() during connect() waits for it and leaves the backend disconnected",
    async () => {
      const backend = make();
      const connecting = backend.connect();
      await backend.disconnect();
      await connecting;
      expect(backend.isConnected).toBe(false);
    },
  );
});
