/** The examples run as their comments say (each on memory://, started the way the README starts the quickstart). */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cli.js";

const run = promisify(execFile);

async function example(path: string, ...args: string[]): Promise<string> {
  const tsx = `${ROOT}/node_modules/.bin/tsx`;
  const { stdout } = await run(tsx, ["--tsconfig", "tsconfig.json", path, ...args], {
    cwd: ROOT,
  });
  return stdout.trim();
}

describe.concurrent("examples", () => {
  it("the quickstart prints the task's result", async () => {
    expect(await example("examples/quickstart.ts")).toBe("sent 'Welcome!' to alice@example.com");
  });

  it("Express mounts the HTTP API: a request through it returns the queue list", async () => {
    expect(JSON.parse(await example("examples/http/express.ts", "--check"))).toEqual({
      default: 1,
    });
  });

  it("Fastify mounts the HTTP API: a request through it returns the queue list", async () => {
    expect(JSON.parse(await example("examples/http/fastify.ts", "--check"))).toEqual({
      default: 1,
    });
  });

  it("a paused queue resumed runs its tasks by priority; a task's progress and log stay on it", async () => {
    expect((await example("examples/priorities-and-pause.ts")).split("\n")).toEqual([
      "true 4",
      "password reset, newsletter, digest, report",
      '{"done":10000,"total":10000} 10000 rows in the report',
    ]);
  });

  it("fairness per tenant: one at a time per key, in order, keys alongside, under a queue cap", async () => {
    expect((await example("examples/fairness.ts")).split("\n")).toEqual([
      "3 8",
      "a1 b1 c1",
      "a1 a2 a3 a4",
      "1 true",
    ]);
  });

  it("dedupe: ignore, replace (debounce), a caller-chosen id and a window (throttle)", async () => {
    expect((await example("examples/dedupe.ts")).split("\n")).toEqual([
      "added ignored true",
      "replaced",
      "added ignored order-42",
      "ada (signup), bob (edit 2), carol (order)",
      "ignored added",
    ]);
  });

  it("crons every 30 s and in Europe/Berlin across the spring-forward night", async () => {
    expect((await example("examples/cron.ts")).split("\n")).toEqual([
      "example.pulse 2030-03-30T12:00:30.000Z",
      "example.pulse 2030-03-30T12:01:00.000Z",
      "example.pulse 2030-03-30T12:01:30.000Z",
      "example.backup 2030-03-31T01:00:00.000Z",
      "example.backup 2030-04-01T00:30:00.000Z",
      "example.backup 2030-04-02T00:30:00.000Z",
      "completed pulse",
    ]);
  });

  it("dead letters: the failed tasks listed newest first, a page at a time, then redriven", async () => {
    expect((await example("examples/redrive.ts")).split("\n")).toEqual([
      "order-3, order-2",
      "order-1 null",
      "3 0",
      "charged order-3, charged order-2, charged order-1",
    ]);
  });

  it("failure control: exponential delays capped, an UnrecoverableError fails at once", async () => {
    expect((await example("examples/failure-control.ts")).split("\n")).toEqual([
      "2, 4, 8, 10, 10",
      "failed 5",
      "failed 0 UnrecoverableError: card expired declined",
    ]);
  });

  it("a sequential workflow", async () => {
    expect(await example("examples/workflows/sequential.ts")).toBe(
      "completed welcomed alice@example.com",
    );
  });

  it("a fan-out whose failed branch is rolled back", async () => {
    expect(JSON.parse(await example("examples/workflows/fan-out-rollback.ts"))).toEqual({
      placed: false,
      why: ["sku-42 is out of stock in berlin"],
      released: 2,
    });
  });

  it("a drip campaign whose sleeps a TestClock passes in a moment", async () => {
    expect(JSON.parse(await example("examples/workflows/drip.ts"))).toEqual({
      logins: [3, 0],
      sent: [
        "welcome → ada",
        "welcome → bob",
        "nudge → bob",
        "trial over → ada",
        "trial over → bob",
      ],
    });
  });

  it("a nested workflow", async () => {
    expect(JSON.parse(await example("examples/workflows/nested.ts"))).toEqual({
      user: "bob",
      account: "acct-pro",
      charged: 2000,
      since: true,
    });
  });
});
