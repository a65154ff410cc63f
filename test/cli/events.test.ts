/**
 * `sheppy events` prints a queue's lifecycle events from its event log:
 * from the oldest kept (`--after start`), after an id (`--after <id>`), as
 * JSON lines with `--format json`, only some types with `--type`, exiting
 * after `--count`; a position the log never gave, or an unknown type, is a
 * one-line error. On a SQLite file (no server needed),
 * with tasks added and run by other `sheppy` processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, runCli, TASKS } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "sheppy-cli-events-"));
const url = `sqlite://${join(dir, "queue.db")}`;

interface Event {
  id: string;
  type: string;
  taskId: string;
  taskName: string;
  attempt: number;
}

describe("sheppy events", () => {
  const env = { SHEPPY_BACKEND_URL: url, SHEPPY_QUEUE: "watched" };
  const sheppy = (...args: string[]) => runCli(args, env);
  const lines = (stdout: string) =>
    stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Event);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints what other processes did, from the start or after an id, and stops after --count", async () => {
    expect((await sheppy("task", "add", `${TASKS}:add`, "--args", "[1,2]")).code).toBe(0);
    const first = await sheppy("events", "--after", "start", "--count", "1", "--format", "json");
    expect(first.code).toBe(0);
    const [added] = lines(first.stdout);
    expect(added).toMatchObject({ type: "added", attempt: 1 });
    expect((await sheppy("work", "--tasks", TASKS, "--oneshot")).code).toBe(0);
    const rest = await sheppy("events", "--after", added!.id, "--count", "2", "--format", "json");
    expect(rest.code).toBe(0);
    expect(lines(rest.stdout).map((e) => `${e.type}:${e.taskId}`)).toEqual([
      `started:${added!.taskId}`,
      `completed:${added!.taskId}`,
    ]);
    const text = await sheppy("events", "--after", "start", "--count", "3");
    expect(text.code).toBe(0);
    const rows = text.stdout.trim().split("\n");
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/completed\s+\S+ \S+\s+attempt 1\s+\d+ ms/);
  });

  it("--type prints only events of those types; an unknown type is a one-line error naming the valid ones", async () => {
    expect((await sheppy("task", "add", `${TASKS}:add`, "--args", "[3,4]")).code).toBe(0);
    expect((await sheppy("work", "--tasks", TASKS, "--oneshot")).code).toBe(0);
    const all = await sheppy("events", "--after", "start", "--count", "6", "--format", "json");
    const finished = await sheppy(
      ...["events", "--after", "start", "--type", "completed, failed", "--count", "2"],
      ...["--format", "json"],
    );
    expect(finished.code).toBe(0);
    const completed = lines(all.stdout).filter((e) => e.type === "completed");
    expect(completed).toHaveLength(2);
    expect(lines(finished.stdout)).toEqual(completed);
    const error = expectOneLineError(await sheppy("events", "--type", "completed,finished"));
    expect(error).toMatch(/--type.*Unknown event type 'finished'; one of: added, started,/);
  });

  it("--task --no-follow prints one task's history and exits: its attempts, their errors, the retry by hand", async () => {
    const env2 = { ...env, SHEPPY_QUEUE: "history" };
    const failed = await runCli(["task", "add", `${TASKS}:fail`, "--args", '["no luck"]'], env2);
    const id = failed.stdout.trim();
    expect((await runCli(["task", "add", `${TASKS}:add`, "--args", "[5,6]"], env2)).code).toBe(0);
    expect((await runCli(["work", "--tasks", TASKS, "--oneshot"], env2)).code).toBe(0);
    expect((await runCli(["task", "retry", id], env2)).code).toBe(0);
    expect((await runCli(["work", "--tasks", TASKS, "--oneshot"], env2)).code).toBe(0);
    const history = await runCli(
      ["events", "--after", "start", "--no-follow", "--task", id, "--format", "json"],
      env2,
    );
    expect(history.code).toBe(0);
    const events = lines(history.stdout) as (Event & { error?: { message?: string } })[];
    expect(events.map((e) => [e.type, e.attempt])).toEqual([
      ["added", 1],
      ["started", 1],
      ["failed", 1],
      ["added", 2],
      ["started", 2],
      ["failed", 2],
    ]);
    expect(events.every((e) => e.taskId === id)).toBe(true);
    expect(events[2]!.error?.message).toBe("no luck");
    // Without --task: every event the log holds, then it exits too.
    const all = await runCli(["events", "--after", "start", "--no-follow"], env2);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split("\n")).toHaveLength(9);
    expect(expectOneLineError(await runCli(["events", "--no-follow"], env2), 2)).toMatch(
      /--no-follow with --after now prints nothing/,
    );
  });

  it("a position the log never gave is a one-line error", async () => {
    expect(expectOneLineError(await sheppy("events", "--after", "banana"))).toMatch(
      /^error: --after takes "now", "start" or the id of an event the log gave: .*position.*banana/,
    );
  });

  it("a backend whose event log is off is a one-line error that says how to turn it on", async () => {
    const off = await runCli(["events"], { ...env, SHEPPY_BACKEND_URL: `${url}?eventCap=0` });
    expect(expectOneLineError(off)).toMatch(
      /^error: the event log of queue 'watched' is off on this backend \(eventCap=0 in its URL\).*leave eventCap out/,
    );
  });
});
