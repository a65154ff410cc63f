/**
 * `sheppy work --wait-for-backend`: a worker started before its Redis keeps
 * trying to connect, says so once, and works once the server answers; one
 * whose server never answers within the time fails with the connect error,
 * as without the flag. The Redis is a private server started on a port
 * chosen beforehand.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { freePort, untilRedisAnswers } from "../support/private-redis.js";
import { REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const available = await requireService("Redis", REDIS_URL);

describe.skipIf(!available)("sheppy work --wait-for-backend", () => {
  const workers: WorkerProcess[] = [];
  const servers: ChildProcess[] = [];

  afterAll(() => {
    for (const worker of workers) worker.signal("SIGKILL");
    for (const server of servers) server.kill("SIGKILL");
  });

  it("keeps trying until the server answers, then works", async () => {
    const port = await freePort();
    const env = { SHEPPY_BACKEND_URL: `redis://127.0.0.1:${port}`, SHEPPY_QUEUE: "late" };
    const worker = new WorkerProcess(
      ["--tasks", TASKS, "--wait-for-backend", "60", "--metrics-port", "0"],
      env,
    );
    workers.push(worker);
    const serving = await worker.waitFor(
      (r) => typeof r.msg === "string" && r.msg.startsWith("serving metrics at "),
      "serving metrics",
    );
    const waiting = await worker.waitFor(
      (r) => r.msg === "cannot reach the backend yet; trying again for up to 60 s",
      "the waiting line",
    );
    expect(waiting.level).toBe(40);
    // While it waits, a liveness probe passes and the health says it is starting.
    const endpoint = `http://127.0.0.1:${serving.metricsPort as number}`;
    expect((await fetch(`${endpoint}/livez`)).status).toBe(200);
    const health = await fetch(`${endpoint}/healthz`);
    expect(health.status).toBe(503);
    // …and what it waits for: the latest failed connect.
    const body = (await health.json()) as { status: string; problems: unknown[] };
    expect(body).toMatchObject({
      status: "starting",
      problems: [
        {
          what: "connect",
          queue: null,
          since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          error: expect.stringMatching(
            /^BackendUnavailableError: cannot connect to Redis .*connection refused/,
          ),
        },
      ],
    });
    const server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    servers.push(server);
    await untilRedisAnswers(port);
    const reached = await worker.waitFor((r) => r.msg === "reached the backend", "reached");
    expect(reached.level).toBe(40);
    // Started, the connect problem is gone from its health.
    await expect
      .poll(async () => (await (await fetch(`${endpoint}/healthz`)).json()) as object, {
        timeout: 20_000,
      })
      .toMatchObject({ status: "ok", problems: [] });
    const added = await runCli(
      ["task", "add", `${TASKS}:add`, "--args", "[2, 3]", "--wait", "--timeout", "20s"],
      env,
    );
    expect(added.stdout).toBe("5\n");
    // One line while it waited, however many attempts.
    expect(worker.records.filter((r) => r.msg === waiting.msg)).toHaveLength(1);
    worker.signal("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  it("fails with the connect error once the time is up", async () => {
    const port = await freePort();
    const result = await runCli([
      "work",
      "--tasks",
      TASKS,
      "--wait-for-backend",
      "1",
      "--log-format",
      "json",
      "-u",
      `redis://127.0.0.1:${port}`,
    ]);
    const line = result.stderr.trim().split("\n").at(-1);
    expect(result.code).toBe(1);
    expect(line).toBe(
      `error: cannot connect to Redis at redis://127.0.0.1:${port}: connection refused (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    // Without the flag, the same command fails at once, in one line.
    expectOneLineError(
      await runCli(["work", "--tasks", TASKS, "-u", `redis://127.0.0.1:${port}`]),
      1,
    );
  });
});
