/**
 * Stored records across versions, and records that cannot be used: every
 * backend upgrades a record of an older version when it reads it, and turns
 * one it cannot read (an unknown version, a bad field, options a worker
 * could not act on) into a `failed` record whose `SerializationError` names
 * the field — so nothing waits on it forever and no worker trips over it.
 */
import { describe, expect, it } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";

const item = task({ name: "backend-records.item" }, (n: number) => n);
const data = (n: number): TaskData => ({ ...item(n).toJSON(), status: "pending" });

/** A record as the first stored version wrote it: no priority, concurrency key or metadata. */
function versionOne(record: TaskData): TaskData {
  const { priority: _p, concurrencyKey: _k, meta: _m, ...rest } = record;
  return { ...rest, v: 1 } as unknown as TaskData;
}

export function backendRecordsCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
  });

  describe("backend: stored record versions", () => {
    it("a record of the first version is read back upgraded, and runs", async () => {
      const { backend, q } = await setup();
      const current = data(1);
      expect(await backend.add(q, [versionOne(current)])).toEqual([true]);
      expect((await backend.getTasks(q, [current.id])).get(current.id)).toEqual(current);
      const [claim] = await backend.claim(q, 1);
      expect(claim?.record).toMatchObject({ v: current.v, priority: 0, meta: {} });
    });

    const broken: [string, (record: TaskData) => unknown, RegExp][] = [
      ["an unknown version", (r) => ({ ...r, v: 99 }), /field 'v'/],
      ["a status that is not one", (r) => ({ ...r, status: "bogus" }), /field 'status'/],
      [
        "a retry delay that is not seconds",
        (r) => ({ ...r, config: { ...r.config, retryDelay: "abc" } }),
        /config\.retryDelay/,
      ],
      [
        "a rate limit whose rate is not a number",
        (r) => ({
          ...r,
          config: {
            ...r.config,
            rateLimit: { maxRate: "x", ratePeriod: 1, key: "k", strategy: "sliding_window" },
          },
        }),
        /config\.rateLimit\.maxRate/,
      ],
      ["no arguments list", (r) => ({ ...r, args: "1" }), /field 'args'/],
    ];
    for (const [what, breakIt, field] of broken) {
      it(`a record with ${what} is stored as failed with a SerializationError naming the field, never claimed`, async () => {
        const { backend, q } = await setup();
        const record = data(2);
        expect(await backend.add(q, [breakIt(record) as TaskData])).toEqual([true]);
        const stored = (await backend.getTasks(q, [record.id])).get(record.id);
        expect(stored?.status).toBe("failed");
        expect(stored?.finishedAt).not.toBeNull();
        expect(stored?.error?.type).toBe("SerializationError");
        expect(stored?.error?.message).toMatch(field);
        expect(await backend.claim(q, 5)).toEqual([]);
        expect((await backend.getStats(q)).failed).toBe(1);
      });
    }
  });
}
