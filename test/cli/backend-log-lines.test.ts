/**
 * The backend's own log lines (a lost and a regained connection) follow
 * `sheppy work`'s `--log-level` and `--log-format` like the worker's lines:
 * hidden below the level, human-readable with `pretty`, JSON with the
 * error as a one-line summary otherwise. A private Redis is stopped and
 * started again under the worker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { PrivateRedis } from "../support/private-redis.js";
import { REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const available = await requireService("Redis", REDIS_URL);

describe.skipIf(!available)("sheppy work: the backend's log lines", () => {
  let server: PrivateRedis;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });

  afterAll(async () => {
    for (const worker of workers) worker.signal("SIGKILL");
    await server?.destroy();
  });

  /** Starts a worker with `args`, takes its Redis away and back, and waits until a task runs after that. */
  async function throughOutage(queue: string, args: readonly string[]): Promise<WorkerProcess> {
    const env = { SHEPPY_BACKEND_URL: server.url, SHEPPY_QUEUE: queue };
    const worker = new WorkerProcess(["--tasks", TASKS, ...args], env);
    workers.push(worker);
    // The worker runs a task before the outage (at level error it prints no "worker started").
    const add = () =>
      runCli(
        ["task", "add", `${TASKS}:add`, "--args", "[2, 3]", "--wait", "--timeout", "40s"],
        env,
      );
    expect((await add()).stdout).toBe("5\n");
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.start();
    const ran = await add();
    expect(ran.stdout).toBe("5\n");
    return worker;
  }

  it("at --log-level error, the lost connection is not logged, and the worker carries on", async () => {
    const worker = await throughOutage("quiet", ["--log-level", "error"]);
    expect(worker.lines.filter((line) => line.includes("connection to Redis"))).toEqual([]);
    expect(worker.stderr).toBe("");
  });

  it("with --log-format pretty, the lines are human-readable; as JSON the error is a one-line summary", async () => {
    const pretty = await throughOutage("pretty", ["--log-format", "pretty", "--log-level", "info"]);
    const lost = pretty.lines.filter((line) => line.includes("lost the connection to Redis"));
    expect(lost).toHaveLength(1);
    expect(lost[0]).not.toMatch(/^\{/);
    expect(pretty.lines.some((line) => line.includes("reconnected to Redis"))).toBe(true);

    const json = await throughOutage("json", ["--log-level", "info"]);
    const record = json.records.find((r) => r.msg === "lost the connection to Redis; reconnecting");
    expect(record?.level).toBe(40);
    expect(record?.url).toBe(server.url);
    expect(json.records.some((r) => r.msg === "reconnected to Redis")).toBe(true);
  });
});
