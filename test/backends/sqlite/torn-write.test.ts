/**
 * SQLite: a process SIGKILLed during a bulk add leaves the whole batch or none
 * of it. A producer process adds 20,000 tasks in one `queue.add([...])` call
 * to a fresh database file and is killed at several moments of that call:
 * at fixed fractions of how long an unkilled add takes, and as soon as the
 * write-ahead log has grown by 1 MiB (the batch is then being written).
 * After each kill the file must pass SQLite's integrity check and hold 0 or
 * 20,000 of the tasks, every index once. At least one kill must have landed
 * while the batch was being written — else the run proved nothing, and fails.
 */
import type { ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { Queue } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { spawnTs, waitForOutput } from "../../support/processes.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const key = fileKey(import.meta.url);
const BATCH = 20_000;
/** Growth of the write-ahead log that only the batch's own pages can explain (it writes ~16 MB). */
const GROWTH = 1 << 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Kill = { at: "never" } | { at: "delay"; ms: number } | { at: "wal-grows" };
interface Trial {
  readonly kill: Kill;
  /** Whether the write-ahead log had grown by GROWTH since "adding" when the kill was sent. */
  readonly walGrew: boolean;
  /** How many of the batch's tasks the file holds afterwards. */
  readonly kept: number;
  /** The producer's own timing of the add, when it finished it. */
  readonly addMs: number | null;
}

describe("sqlite: a producer killed during a bulk add", () => {
  const dir = sqliteTestDir(key);
  const children: ChildProcess[] = [];
  let trials = 0;

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    dir.remove();
  });

  const walSize = (path: string) => {
    try {
      return statSync(`${path}-wal`).size;
    } catch {
      return 0;
    }
  };

  /** One producer on a fresh file, killed as `kill` says; returns what the file kept. */
  async function trial(kill: Kill): Promise<Trial> {
    const name = `torn-${++trials}.db`;
    const path = dir.path(name);
    const producer = spawnTs("test/fixtures/sqlite-adder.ts", {
      TEST_SQLITE_URL: dir.url(name),
      TEST_QUEUE: "torn",
      TEST_COUNT: String(BATCH),
      TEST_PADDING: "500",
    });
    children.push(producer);
    // "close" comes after the exit and the end of its output, so "added <ms>" is never missed.
    const closed = new Promise<number | NodeJS.Signals | null>((resolve) =>
      producer.once("close", (code, signal) => resolve(code ?? signal)),
    );
    let output = "";
    producer.stdout?.on("data", (chunk: string) => {
      output += chunk;
    });
    await waitForOutput(producer, "adding", 60_000);
    const threshold = walSize(path) + GROWTH;
    let walGrew = false;
    if (kill.at === "delay") {
      await sleep(kill.ms);
      walGrew = walSize(path) >= threshold;
      producer.kill("SIGKILL");
    } else if (kill.at === "wal-grows") {
      while (producer.exitCode === null) {
        if (walSize(path) >= threshold) {
          walGrew = true;
          producer.kill("SIGKILL");
          break;
        }
        await sleep(1);
      }
    }
    const code = await closed;
    // A producer that finished before its kill exits 0 by itself.
    expect([0, "SIGKILL"], output).toContain(code);
    const addMs = /added (\d+)/.exec(output)?.[1];

    const db = new Database(path);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();

    const queue = new Queue(dir.url(name), { name: "torn" });
    const kept = await queue.size();
    if (kept === BATCH) {
      const pending = await queue.getPending(BATCH + 1);
      const indexes = pending.map((t) => Number(t.args[0])).sort((a, b) => a - b);
      expect(indexes).toEqual(Array.from({ length: BATCH }, (_, i) => i));
    }
    await queue.close();
    return { kill, walGrew, kept, addMs: addMs === undefined ? null : Number(addMs) };
  }

  it("keeps the whole batch or none of it, wherever the kill lands", async () => {
    const results: Trial[] = [];
    const whole = await trial({ at: "never" });
    results.push(whole);
    expect(whole.kept).toBe(BATCH);
    const addMs = whole.addMs!;

    for (const fraction of [0, 0.25, 0.5, 0.75, 0.95]) {
      results.push(await trial({ at: "delay", ms: Math.round(addMs * fraction) }));
    }
    // Killed as soon as the batch's pages reach the log: until one kill lands mid-write, up to 6 tries.
    const midWrite = (t: Trial) => t.walGrew && t.kept === 0;
    for (let i = 0; i < 6 && !results.some(midWrite); i++) {
      results.push(await trial({ at: "wal-grows" }));
    }

    const summary = results.map((t) => ({
      kill: t.kill.at === "delay" ? `${t.kill.ms} ms` : t.kill.at,
      walGrew: t.walGrew,
      kept: t.kept,
    }));
    console.log(`unkilled add of ${BATCH} took ${addMs} ms;`, JSON.stringify(summary));
    for (const t of results) expect([0, BATCH], JSON.stringify(summary)).toContain(t.kept);
    expect(results.some(midWrite), JSON.stringify(summary)).toBe(true);
  }, 300_000);
});
