/**
 * SQLite: a claim whose holder process has ended (SIGKILL) is taken over at
 * the next reclaim scan, without waiting out its lease and the confirmation
 * window — an app restarted after a crash gets its tasks back at once. A
 * live holder's claim, renewed or not, is left to its lease; so is one whose
 * holder cannot be placed (another machine, another pid namespace).
 */
import type { ChildProcess } from "node:child_process";
import { Queue, type SqliteBackend, task } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { holderIsGone, thisProcessHolder } from "../../../src/backends/sqlite/claim-holder.js";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const dir = sqliteTestDir(fileKey(import.meta.url));
const held = task({ name: "dead-holder.held" }, () => "runs elsewhere");
// Longer than the test: only a holder seen to be gone can be the reason for a takeover.
const LONG = { leaseMs: 600_000, confirmMs: 600_000 };

describe("sqlite: a claim of a process that has ended", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    dir.remove();
  });

  const claimInChild = async (url: string, queue: string) => {
    const child = spawnTs("test/fixtures/sqlite-claimer.ts", {
      TEST_SQLITE_URL: url,
      TEST_QUEUE: queue,
    });
    children.push(child);
    await waitForOutput(child, "claimed ");
    return child;
  };

  // Skipped only where this process cannot name itself as a holder (no Linux /proc): there no
  // claim records a holder, and every claim is left to its lease, which other tests cover.
  const onLinux = thisProcessHolder() !== null;

  it.runIf(onLinux)(
    "is taken over at once, lease or not; a live process's claim stays",
    async () => {
      const url = dir.url("holders.db");
      const queue = new Queue(url, { name: "holders" });
      const backend = (await queue.connect()) as SqliteBackend;
      const [dying, living] = [held(), held()];
      await queue.add(dying);
      const killed = await claimInChild(url, "holders");
      await queue.add(living);
      const alive = await claimInChild(url, "holders");
      expect(await backend.reclaimExpired("holders", LONG)).toEqual([]);
      killed.kill("SIGKILL");
      expect(await exited(killed)).toBe("SIGKILL");
      const taken = await backend.reclaimExpired("holders", LONG);
      expect(taken.map((claim) => claim.record.id)).toEqual([dying.id]);
      expect(taken[0]!.record.status).toBe("processing");
      // Taken over, the claim is this process's: it is not handed out again.
      expect(await backend.reclaimExpired("holders", LONG)).toEqual([]);
      expect((await backend.claimLeases("holders", [living.id])).has(living.id)).toBe(true);
      alive.kill("SIGKILL");
      await exited(alive);
      await queue.close();
    },
  );

  it.runIf(onLinux)(
    "a holder is gone only when its machine and pid namespace are this process's and no process has its pid and start time",
    () => {
      const [boot, namespace, pid, start] = thisProcessHolder()!.split(":");
      expect(holderIsGone(thisProcessHolder()!)).toBe(false);
      // A pid no process has (above the kernel's pid ceiling), and a live pid started at another time (reused).
      expect(holderIsGone([boot, namespace, "99999999", start].join(":"))).toBe(true);
      expect(holderIsGone([boot, namespace, pid, `${start}0`].join(":"))).toBe(true);
      // Another machine or pid namespace: its pids mean nothing here.
      expect(holderIsGone(["another-boot", namespace, "99999999", start].join(":"))).toBe(false);
      expect(holderIsGone([boot, "pid[1]", "99999999", start].join(":"))).toBe(false);
      for (const odd of ["", "a:b", `${boot}:${namespace}:x:1`, `${boot}:${namespace}:-1:1`]) {
        expect(holderIsGone(odd), odd).toBe(false);
      }
    },
  );
});
