/** `sheppy cron add | list | delete` against Redis: a cron added in code can be removed from the CLI by its id. */
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { add } from "../fixtures/cli/tasks.js";
import { expectOneLineError, json, redisUrlWithPrefix, runCli, TASKS } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const prefix = fileKey(import.meta.url);
const url = redisUrlWithPrefix(REDIS_URL, prefix);
const available = await requireService("Redis", REDIS_URL);

interface CronRow {
  deterministicId: string;
  expression: string;
  name: string;
  args: unknown[];
}

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("sheppy cron on Redis", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "cli-cron" };
  const sheppy = (...args: string[]) => runCli(args, env);

  afterAll(async () => {
    await deleteRedisPrefix(prefix);
  });

  it("adds a cron from the command line, once; lists it; deletes it by id; a second delete is an error", async () => {
    const addHourly = () =>
      sheppy("cron", "add", `${TASKS}:add`, "@hourly", "--args", "[1, 2]", "--format", "json");
    const added = await addHourly();
    expect(added.code).toBe(0);
    const first = json<{ added: boolean; id: string }>(added);
    expect(first.added).toBe(true);
    const again = json<{ added: boolean; id: string }>(await addHourly());
    expect(again).toEqual({ added: false, id: first.id });

    const listed = json<CronRow[]>(await sheppy("cron", "list", "--format", "json"));
    expect(listed.map((c) => [c.deterministicId, c.name, c.expression, c.args])).toEqual([
      [first.id, "cli.add", "@hourly", [1, 2]],
    ]);

    expect(await sheppy("cron", "delete", first.id)).toMatchObject({
      code: 0,
      stdout: `deleted: ${first.id}\n`,
    });
    expect(json<CronRow[]>(await sheppy("cron", "list", "--format", "json"))).toEqual([]);
    expect(expectOneLineError(await sheppy("cron", "delete", first.id), 1)).toContain(
      `has no cron ${first.id}`,
    );
  });

  it("deletes a cron that was added in code, without its task module", async () => {
    const queue = new Queue(url, { name: "cli-cron-code" });
    await queue.addCron(add(5, 5), "0 9 * * 1-5");
    const [cron] = await queue.getCrons();
    const deleted = await runCli(["cron", "delete", cron!.deterministicId], {
      SHEPPY_BACKEND_URL: url,
      SHEPPY_QUEUE: "cli-cron-code",
    });
    expect(deleted.code).toBe(0);
    expect(await queue.getCrons()).toEqual([]);
    await queue.close();
  });
});
