/**
 * A worker process killed while it runs tasks that chain others: a parent's
 * outcome and its children are one settle, so whether the kill lands before,
 * during or after it, every parent ends completed once and every child it
 * names exists exactly once — no child of an attempt that never settled, and
 * none twice.
 */
import type { ChildProcess } from "node:child_process";
import { Queue, type Task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { chainChild, chainParent } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const PARENTS = 600;

describe.skipIf(!available)("redis: a worker killed while its tasks chain others", () => {
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await deleteRedisPrefix(prefix);
  });

  it("every parent completes once and each child it names exists exactly once", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "chain" });
    // Parents take 50 ms and are queued before any child, so while most are still waiting
    // every worker's slots hold running parents: a kill then always lands on some.
    const parents = Array.from({ length: PARENTS }, (_, i) => chainParent(i, 50));
    await queue.add(parents);
    const env = { TEST_REDIS_URL: REDIS_URL, TEST_PREFIX: prefix, TEST_QUEUE: "chain" };
    for (let i = 0; i < 3; i++) children.push(spawnTs("test/fixtures/crash-worker.ts", env));
    await Promise.all(children.map((child) => waitForOutput(child, "ready")));
    // Kill one worker while it is busy, twice over: the first one, then a second one.
    for (const [k, victim] of children.slice(0, 2).entries()) {
      while ((await queue.stats()).completed < (PARENTS / 10) * (k + 1)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      victim.kill("SIGKILL");
      await exited(victim);
    }
    const done = await queue.waitFor(parents, { timeout: 60 });
    expect(done.every((p) => p.status === "completed")).toBe(true);
    const named = done.flatMap((p) => (p.result as unknown as Task[]).map((c) => c.id));
    expect(named).toHaveLength(PARENTS * 3);
    expect(new Set(named).size).toBe(PARENTS * 3);
    const stored = (await queue.getAllTasks()).filter((t) => t.name === chainChild.taskName);
    expect(stored).toHaveLength(PARENTS * 3);
    expect(new Set(stored.map((t) => t.id))).toEqual(new Set(named));
    // Some parent was taken over from a killed worker and run again: the case this test is about.
    expect(done.some((p) => p.retryCount > 0)).toBe(true);
    const last = children[2]!;
    last.kill("SIGTERM");
    expect(await exited(last)).toBe(0);
    await queue.close();
  }, 90_000);
});
