/** `sheppy cron add | list | delete` against Redis: a cron added in code can be removed from the CLI by its id. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "sheppy";
import { afterAll, describe, expect, it, vi } from "vitest";
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
  expression: string | null;
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

  it("adds a cron --every N seconds and one with --timezone; lists their schedules; bad input is a one-line error", async () => {
    const env2 = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "cli-cron-every" };
    const run = (...args: string[]) => runCli(args, env2);
    const every = await run("cron", "add", `${TASKS}:add`, "--every", "30", "--args", "[1, 2]");
    expect(every.code).toBe(0);
    const zoned = await run(
      "cron",
      "add",
      `${TASKS}:add`,
      "30 2 * * *",
      "--timezone",
      "europe/berlin",
      "--args",
      "[1, 2]",
      "--format",
      "json",
    );
    expect(zoned.code).toBe(0);
    const listed = json<(CronRow & { every: number | null; timezone: string | null })[]>(
      await run("cron", "list", "--format", "json"),
    );
    expect(listed.map((c) => [c.expression, c.every, c.timezone])).toEqual(
      expect.arrayContaining([
        ["30 2 * * *", null, "Europe/Berlin"],
        [null, 30, null],
      ]),
    );
    expect(listed).toHaveLength(2);
    const table = (await run("cron", "list")).stdout;
    expect(table).toContain("every 30 s");
    expect(table).toContain("30 2 * * * (Europe/Berlin)");
    // An alias is the zone it stands for: stored, listed and shown under the zone's IANA name.
    const alias = await run(
      "cron",
      "add",
      `${TASKS}:add`,
      "0 9 * * *",
      "--timezone",
      "US/Pacific",
      "--args",
      "[1, 2]",
    );
    expect(alias.stdout).toMatch(
      /^added: [0-9a-f-]{36} \(time zone US\/Pacific is stored as America\/Los_Angeles\)\n$/,
    );
    const same = await run(
      "cron",
      "add",
      `${TASKS}:add`,
      "0 9 * * *",
      "--timezone",
      "America/Los_Angeles",
      "--args",
      "[1, 2]",
    );
    expect(same.stdout).toMatch(/^already there: [0-9a-f-]{36}\n$/);
    expect((await run("cron", "list")).stdout).toContain("0 9 * * * (America/Los_Angeles)");
    expect((await run("cron", "delete", alias.stdout.split(" ")[1]!)).code).toBe(0);

    const bad: [string[], RegExp][] = [
      [["--every", "0"], /'every' must be a whole number of seconds from 1 to 31622400 \(got 0\)/],
      [["--every", "1e3"], /\(got "1e3"\)/],
      [["@daily", "--every", "30"], /give an expression or --every <seconds>, not both/],
      [[], /say when: a cron expression \(e\.g\. '0 9 \* \* \*'\) or --every <seconds>/],
      [["--every", "30", "--timezone", "Europe/Berlin"], /--timezone applies to an expression/],
      [["--every", "30", "--timezone", "UTC"], /--timezone applies to an expression/],
      [["@daily", "--timezone", "Mars/Olympus"], /unknown time zone 'Mars\/Olympus'/],
    ];
    // Refused before anything is stored, so the processes may run side by side.
    const refused = await Promise.all(
      bad.map(([args]) => run("cron", "add", `${TASKS}:add`, ...args)),
    );
    refused.forEach((result, i) => {
      expect(expectOneLineError(result, 2)).toMatch(bad[i]![1]);
    });
    expect(json<CronRow[]>(await run("cron", "list", "--format", "json"))).toHaveLength(2);
    // About a dozen CLI processes one after another: a loaded machine takes seconds to start each.
  }, 120_000);

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

  it("refuses to delete a cron a config file declares (its workers would create it again) unless --force", async () => {
    const queue = new Queue(url, { name: "cli-cron-declared" });
    const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-cron-"));
    const configFile = join(dir, "sheppy.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({ crons: [{ task: add(1, 1).name, expression: "@hourly", args: [1, 1] }] }),
    );
    const worker = new Worker(queue, { configFile, processing: false, scheduler: false });
    const running = worker.work();
    await vi.waitFor(async () => expect(await queue.getCrons()).toHaveLength(1), {
      timeout: 10_000,
    });
    await worker.close();
    await running;
    rmSync(dir, { recursive: true, force: true });
    const [cron] = await queue.getCrons();
    const cli = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "cli-cron-declared" };
    const refused = await runCli(["cron", "delete", cron!.deterministicId], cli);
    expect(expectOneLineError(refused, 2)).toBe(
      `error: cron ${cron!.deterministicId} of queue cli-cron-declared was created from a worker's config file, and the workers that declare it create it again at their next look: remove its entry from the file (they then delete it themselves), or pass --force to delete it all the same`,
    );
    expect(await queue.getCrons()).toHaveLength(1);
    const forced = await runCli(["cron", "delete", cron!.deterministicId, "--force"], cli);
    expect(forced).toMatchObject({ code: 0, stdout: `deleted: ${cron!.deterministicId}\n` });
    expect(await queue.getCrons()).toEqual([]);
    await queue.close();
  });
});
