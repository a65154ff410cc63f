/** Waiting for many tasks reads only what notifications name: the reads grow with the list, not with its square. */
import { describe, expect, it } from "vitest";
import type { TaskReader } from "../../src/backends/backend.js";
import type { TaskData } from "../../src/index.js";
import { task } from "../../src/index.js";
import { waitForFinished } from "../../src/queue/wait-for-finished.js";

const item = task({ name: "wait-reads.item" }, (n: number) => n);

/** A reader over an in-memory map that counts how many ids each read asks for. */
function fakeBackend(records: Map<string, TaskData>) {
  let listener: ((ids: readonly string[]) => void) | undefined;
  const reader = {
    isConnected: true,
    idsRead: 0,
    async getTasks(_queue: string, ids: readonly string[]) {
      reader.idsRead += ids.length;
      const found = new Map<string, TaskData>();
      for (const id of ids) {
        const record = records.get(id);
        if (record) found.set(id, record);
      }
      return found;
    },
    async watchFinished(_queue: string, callback: (ids: readonly string[]) => void) {
      listener = callback;
      return () => {
        listener = undefined;
      };
    },
    announce: (ids: readonly string[]) => listener?.(ids),
  };
  return reader;
}

describe("waitForFinished", () => {
  it("waiting for 1,000 tasks that finish one notification each reads each id a bounded number of times", async () => {
    const records = new Map<string, TaskData>();
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const data: TaskData = { ...item(i).toJSON(), status: "pending" };
      records.set(data.id, data);
      ids.push(data.id);
    }
    const backend = fakeBackend(records);
    const waiting = waitForFinished(
      backend as unknown as TaskReader & { isConnected: boolean },
      "q",
      ids,
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const id of ids) {
      records.set(id, {
        ...records.get(id)!,
        status: "completed",
        finishedAt: new Date().toISOString(),
      });
      backend.announce([id]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const found = await waiting;
    expect(found.size).toBe(1000);
    // One read of the whole list, then one read per finished id (each notification names one).
    expect(backend.idsRead).toBeLessThanOrEqual(2000);
  });
});
