/**
 * Sleeping workflows hold no worker and nothing in a worker's memory: 60
 * workflows put to sleep by one worker process, which is then SIGKILLed, on
 * a private PostgreSQL that is then crash-stopped and started again (recovery
 * at start), all wake on time in a new worker and complete — each sleep step
 * run once, none before its wake time.
 */
import type { ChildProcess } from "node:child_process";
import { Queue } from "sheppy";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { napThenDouble } from "../../fixtures/sleeping-workflow.js";
import { PrivatePostgres, postgresBinaries } from "../../support/private-postgres.js";
import { exited, startWorkerProcesses } from "../../support/processes.js";
import { missingService } from "../../support/services.js";
import { until } from "../../support/until.js";

const available =
  postgresBinaries() !== null ||
  missingService("PostgreSQL server binaries", "no initdb under /usr/lib/postgresql");
const WORKFLOWS = 60;
const SLEEP_S = 3;

// Skipped only outside CI when the PostgreSQL binaries are missing; under CI=true that fails instead.
describe.skipIf(!available)(
  "postgres: sleeping workflows across a worker's SIGKILL and a server crash",
  () => {
    let server: PrivatePostgres;
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      server = await PrivatePostgres.start();
    });

    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      server?.destroy();
    });

    it("60 workflows asleep when their worker is killed and the server crash-restarted all wake on time and complete", async () => {
      const url = `${server.url}?schema=sleep_restart`;
      const queue = new Queue(new PostgresBackend({ url, unavailableAfter: 30 }), { name: "naps" });
      const added = [];
      for (let i = 0; i < WORKFLOWS; i++)
        added.push(await queue.addWorkflow(napThenDouble(i, SLEEP_S)));
      const env = {
        TEST_POSTGRES_URL: url,
        TEST_QUEUE: "naps",
        TEST_CONCURRENCY: "10",
        TEST_UNAVAILABLE_AFTER: "30",
        TEST_TASK_MODULES: "test/fixtures/sleeping-workflow.ts",
      };
      const first = await startWorkerProcesses("test/fixtures/crash-worker.ts", env, 1, children);
      // Every workflow asleep: its first step done, its sleep step put off to its wake time.
      await until(async () => (await queue.getScheduled()).length === WORKFLOWS, {
        what: `the ${WORKFLOWS} sleep steps put off`,
        timeoutMs: 20_000,
      });
      first.children[0]!.kill("SIGKILL");
      await exited(first.children[0]!);
      server.restart("immediate");

      const second = await startWorkerProcesses("test/fixtures/crash-worker.ts", env, 1, children);
      const done = await queue.waitForWorkflow(added, { timeout: 60 });
      expect(done.map((w) => [w.status, w.error?.message])).toEqual(
        added.map(() => ["completed", undefined]),
      );
      expect(done.map((w) => w.result)).toEqual(added.map((_, i) => i * 4));
      for (const wf of done) {
        const [before, nap, after] = await queue.getWorkflowSteps(wf);
        expect(nap?.name).toBe("sheppy.sleep");
        const wake = nap!.createdAt.getTime() + SLEEP_S * 1000;
        // Put off once, to its wake time, and run once — not before it.
        expect(nap?.scheduledAt?.getTime()).toBe(wake);
        expect(nap?.meta["sheppy.wakeAt"]).toBe(new Date(wake).toISOString());
        expect([nap?.status, nap?.retryCount]).toEqual(["completed", 0]);
        expect(nap!.startedAt!.getTime()).toBeGreaterThanOrEqual(wake);
        expect(after!.createdAt.getTime()).toBeGreaterThanOrEqual(wake);
        expect(before?.status).toBe("completed");
      }
      second.children[0]!.kill("SIGTERM");
      expect(await exited(second.children[0]!), `worker output:\n${second.output()}`).toBe(0);
      await queue.close();
    }, 120_000);
  },
);
