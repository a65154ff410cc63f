/**
 * `sheppy task list`: the newest `--limit` tasks (of the `--status` given),
 * shown oldest first, read a page at a time rather than the whole queue.
 */
import { Queue, SqliteBackend, type TaskData, task } from "sheppy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, runCli } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { sqliteTestDir } from "../support/sqlite.js";

const files = sqliteTestDir(fileKey(import.meta.url));
const url = files.url("list.db");
const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "listing" };
const echo = task({ name: "task-list.echo" }, (n: number) => n);

/** Every record, oldest first (by creation time, then id): what the listing is checked against. */
let records: TaskData[] = [];

beforeAll(async () => {
  const queue = new Queue(new SqliteBackend({ url }), { name: "listing" });
  // More than one page of the listing (500), a third of them scheduled.
  for (let n = 0; n < 1205; n++) {
    if (n % 3 === 0) await queue.schedule(echo(n), 3600);
    else await queue.add(echo(n));
  }
  for await (const t of queue.iterateTasks()) records.push(t.toJSON());
  records = records.sort(
    (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
  );
  await queue.backend.disconnect();
});

afterAll(() => files.remove());

async function listed(...args: string[]): Promise<{ id: string; status: string }[]> {
  return json(await runCli(["task", "list", ...args, "--format", "json"], env));
}

describe("sheppy task list", () => {
  it("--limit shows the newest that many, oldest first; 0 shows every task", async () => {
    expect((await listed("--limit", "3")).map((t) => t.id)).toEqual(
      records.slice(-3).map((t) => t.id),
    );
    expect((await listed("--limit", "0")).map((t) => t.id)).toEqual(records.map((t) => t.id));
  });

  it("--status with --limit: the newest of those statuses, across pages of the listing", async () => {
    const scheduled = records.filter((t) => t.status === "scheduled");
    expect(scheduled.length).toBeGreaterThan(400);
    const shown = await listed("--status", "scheduled", "--limit", "600");
    expect(shown.map((t) => t.id)).toEqual(scheduled.map((t) => t.id));
    const newest = await listed("--status", "pending,scheduled", "--limit", "700");
    expect(newest.map((t) => t.id)).toEqual(records.slice(-700).map((t) => t.id));
  });
});
