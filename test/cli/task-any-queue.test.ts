/** `sheppy task info|retry|cancel|delete <id>` without `-q`: the id is looked for in every queue. */
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, redisUrlWithPrefix, runCli } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const prefix = fileKey(import.meta.url);
const url = redisUrlWithPrefix(REDIS_URL, prefix);
const available = await requireService("Redis", REDIS_URL);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("sheppy task <id> without -q on Redis", () => {
  const env = { SHEPPY_BACKEND_URL: url };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(async () => {
    await deleteRedisPrefix(prefix);
  });

  it("finds the task in whichever queue holds it, and acts on it there", async () => {
    const reports = new Queue(url, { name: "reports" });
    const t = add(1, 2);
    await reports.add(t);
    const info = json<{ id: string; status: string }>(
      await sheppy("task", "info", t.id, "--format", "json"),
    );
    expect(info).toMatchObject({ id: t.id, status: "pending" });
    expect((await sheppy("task", "info", t.id)).stdout).toMatch(/queue\s+reports/);
    expect(await sheppy("task", "cancel", t.id)).toMatchObject({ code: 0 });
    expect((await reports.getTask(t))?.status).toBe("cancelled");
    expect(await sheppy("task", "delete", t.id)).toMatchObject({ code: 0 });
    expect(await reports.getTask(t)).toBeNull();
    // Not in any queue: the error says every queue was looked in, not only the default one.
    expect(expectOneLineError(await sheppy("task", "info", t.id), 1)).toMatch(
      new RegExp(
        `^error: queue 'default' has no task ${t.id}: nor does any other queue \\((looked in \\d+: .+|this backend has no other)\\); a finished one's record is deleted once it expires \\(ttl\\) or the queue holds more than maxFinished$`,
      ),
    );
    await reports.close();
  });

  it("an id held by two queues asks for -q; with -q it acts on that queue", async () => {
    const a = new Queue(url, { name: "twin-a" });
    const b = new Queue(url, { name: "twin-b" });
    const t = add(3, 4);
    await a.add(t);
    await b.add(t);
    expect(expectOneLineError(await sheppy("task", "cancel", t.id), 2)).toBe(
      `error: task ${t.id} is in several queues (twin-a, twin-b): pass -q <queue>`,
    );
    expect(await sheppy("task", "cancel", t.id, "-q", "twin-b")).toMatchObject({ code: 0 });
    expect((await a.getTask(t))?.status).toBe("pending");
    expect((await b.getTask(t))?.status).toBe("cancelled");
    await Promise.all([a.close(), b.close()]);
  });
});
