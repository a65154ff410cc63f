/**
 * A call to a backend after it was disconnected — a queue closed while one
 * of its waits was under way, say — says the backend was disconnected, not
 * to call connect() first, which it never needed; before any connect it
 * says to connect. On each of Sheppy's backends.
 */
import { BackendError } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { eachBackend } from "../support/each-backend.js";
import { fileKey } from "../support/isolation.js";

const { backends, cleanUp } = await eachBackend(fileKey(import.meta.url));
afterAll(cleanUp);

describe.each(backends)("%s", (_name, available, make) => {
  // Skipped only when its service is unreachable outside CI; under CI=true requireService fails instead.
  it.skipIf(!available)(
    "before connect: connect first; after disconnect: it was disconnected",
    async () => {
      const backend = make();
      const before = await backend.getTasks("q", ["x"]).catch((e: Error) => e);
      expect(before).toBeInstanceOf(BackendError);
      expect((before as Error).message).toMatch(/is not connected: call connect\(\) first$/);
      await backend.connect();
      await backend.getTasks("q", ["x"]);
      await backend.disconnect();
      const after = await backend.getTasks("q", ["x"]).catch((e: Error) => e);
      expect(after).toBeInstanceOf(BackendError);
      expect((after as Error).message).toMatch(
        /was disconnected \(its queue or backend was closed\): connect\(\) again to use it$/,
      );
      await backend.connect();
      expect((await backend.getTasks("q", ["x"])).size).toBe(0);
      await backend.disconnect();
    },
  );
});
