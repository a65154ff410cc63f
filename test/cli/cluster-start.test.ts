/**
 * `sheppy work` on a healthy Redis Cluster starts without a warning: its
 * first claims, sent while the cluster client was still opening its
 * connections to the other masters, were refused unsent ("Connection is
 * closed.") and logged as a dropped call on every start. Private nodes only.
 */
import { afterAll, describe, expect, it } from "vitest";
import { runCli, TASKS, WorkerProcess } from "../support/cli.js";
import { PrivateRedisCluster, redisServerInstalled } from "../support/private-redis-cluster.js";
import { missingService } from "../support/services.js";

const installed = redisServerInstalled() || missingService("redis-server", "it is not installed");

describe.skipIf(!installed)("sheppy work on a Redis Cluster", () => {
  let cluster: PrivateRedisCluster | undefined;
  const workers: WorkerProcess[] = [];

  afterAll(() => {
    for (const worker of workers) worker.signal("SIGKILL");
    cluster?.destroy();
  });

  it("starts on four queues (spread over the masters) without a warning, and runs their tasks", async () => {
    cluster = await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 0 });
    const url = `${cluster.url}?prefix=cluster-start`;
    for (let start = 0; start < 3; start++) {
      const worker = new WorkerProcess(["--tasks", TASKS, "-q", "a,b,c,d"], {
        SHEPPY_BACKEND_URL: url,
      });
      workers.push(worker);
      await worker.waitFor((r) => r.msg === "worker started", "worker started");
      const added = await runCli(
        [
          "task",
          "add",
          `${TASKS}:add`,
          "--args",
          "[2, 3]",
          "-q",
          "c",
          "--wait",
          "--timeout",
          "20s",
        ],
        { SHEPPY_BACKEND_URL: url },
      );
      expect(added.stdout).toBe("5\n");
      worker.signal("SIGTERM");
      expect(await worker.exited).toBe(0);
      const warnings = worker.records.filter((r) => (r.level as number) >= 40);
      expect(warnings.map((r) => r.msg)).toEqual([]);
    }
  });
});
