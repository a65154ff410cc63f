/**
 * Tasks another process finishes reach this process's finished-listeners
 * with their ids (not only as "look again"): what an event stream such as
 * the HTTP API's needs to say which task finished.
 */
import { Queue } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { echo } from "../../fixtures/sqlite-finisher-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs } from "../../support/processes.js";
import { sqliteTestDir } from "../../support/sqlite.js";
import { until } from "../../support/until.js";

const files = sqliteTestDir(fileKey(import.meta.url));
afterAll(() => files.remove());

describe("sqlite: finished tasks announced across processes", () => {
  it("a listener hears the ids of tasks a worker in another process finished", async () => {
    const backend = new SqliteBackend({ path: files.path("finish.db") });
    const queue = new Queue(backend, { name: "finish" });
    const tasks = Array.from({ length: 30 }, (_, i) => echo(i));
    await queue.add(tasks);
    const heard: string[] = [];
    let emptyLists = 0;
    const stop = await backend.watchFinished("finish", (ids) => {
      if (ids.length === 0) emptyLists++;
      heard.push(...ids);
    });
    const child = spawnTs("test/fixtures/sqlite-finisher.ts", {
      TEST_SQLITE_URL: files.url("finish.db"),
      TEST_QUEUE: "finish",
      TEST_COUNT: String(tasks.length),
    });
    let output = "";
    child.stderr?.on("data", (chunk: string) => {
      output += chunk;
    });
    expect(await exited(child), output).toBe(0);
    await until(() => new Set(heard).size === tasks.length, { what: "every id heard" });
    expect(new Set(heard)).toEqual(new Set(tasks.map((t) => t.id)));
    expect(emptyLists).toBe(0);
    stop();
    await queue.close();
  });
});
