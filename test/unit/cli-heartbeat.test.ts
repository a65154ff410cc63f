/**
 * `sheppy task list` and `task info` on running tasks: when each started, and
 * how long ago its worker last renewed its claim — past the claim's lease,
 * the worker is likely gone, and the view says so.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { MemoryBackend, task } from "sheppy";
import { describe, expect, it } from "vitest";
import {
  heartbeatCell,
  heartbeatDetail,
  holderDetail,
  runningClaims,
  withClaim,
} from "../../src/cli/claim-heartbeat.js";
import { renderTable, renderTaskDetail, TASK_COLUMNS, taskColumns } from "../../src/cli/output.js";
import { decodeLiveWorker, holderAmong } from "../../src/queue/live-worker.js";
import type { TaskData } from "../../src/task/task-record.js";

const job = task({ name: "cli-heartbeat.job" }, (n: number) => n);
const record = (n: number): TaskData => ({ ...job(n).toJSON(), status: "pending" });

describe("a running task's heartbeat", () => {
  it("is its age since the last renewal; past the claim's lease, the cell and the detail say so", () => {
    expect(heartbeatCell({ renewedAgoMs: 4_200, leaseMs: 20_000 })).toBe("4s ago");
    expect(heartbeatCell({ renewedAgoMs: 72_000, leaseMs: 20_000 })).toBe(
      "1m12s ago, past 20s lease",
    );
    // A claim made without a lease (an earlier build's) shows its age alone.
    expect(heartbeatCell({ renewedAgoMs: 72_000, leaseMs: null })).toBe("1m12s ago");
    expect(heartbeatCell(undefined)).toBe("-");
    expect(heartbeatDetail({ renewedAgoMs: 3_000, leaseMs: 20_000 })).toBe("3s ago (lease 20s)");
    expect(heartbeatDetail({ renewedAgoMs: 25_000, leaseMs: 20_000 })).toMatch(
      /^25s ago: past its 20s lease — its worker is likely gone; /,
    );
  });

  it("task list adds STARTED and HEARTBEAT only when a row is running", () => {
    const waiting = record(1);
    const running: TaskData = {
      ...record(2),
      status: "processing",
      startedAt: "2030-01-02T03:04:05.000Z",
    };
    const heartbeat = { heading: "HEARTBEAT", value: () => "2s ago" };
    expect(taskColumns([waiting], heartbeat)).toBe(TASK_COLUMNS);
    const headings = taskColumns([waiting, running], heartbeat).map((c) => c.heading);
    expect(headings.slice(0, 6)).toEqual([
      "ID",
      "NAME",
      "STATUS",
      "CREATED",
      "STARTED",
      "HEARTBEAT",
    ]);
    const table = renderTable([waiting, running], taskColumns([waiting, running], heartbeat));
    expect(table).toContain("2030-01-02 03:04:05");
    // A backend that does not report claims: STARTED alone.
    expect(taskColumns([running]).map((c) => c.heading)).toContain("STARTED");
    expect(taskColumns([running]).map((c) => c.heading)).not.toContain("HEARTBEAT");
  });

  it("JSON output gives a running record its claim, as the HTTP API does; any other record is as stored", () => {
    const lease = { renewedAgoMs: 1_000, leaseMs: 20_000 };
    const running: TaskData = { ...record(7), status: "processing" };
    expect(withClaim(running, lease)).toEqual({ ...running, claim: lease });
    expect(withClaim(running, undefined)).toBe(running);
    const waiting = record(8);
    expect(withClaim(waiting, lease)).toBe(waiting);
  });

  it("task info shows the heartbeat of a running task only", () => {
    const running: TaskData = { ...record(3), status: "processing" };
    expect(renderTaskDetail(running, "q", { heartbeat: "2s ago" })).toMatch(
      /^heartbeat\s+2s ago$/m,
    );
    expect(renderTaskDetail(record(4), "q")).not.toMatch(/^heartbeat/m);
  });

  it("task info names the worker holding a running task when one says it does; JSON gives it in the claim", () => {
    const running: TaskData = { ...record(9), status: "processing" };
    const holder = decodeLiveWorker(
      "0123456789abcdef",
      JSON.stringify({
        host: "box-1",
        pid: 4242,
        startedAt: "2026-12-01T00:00:00.000Z",
        taskIds: [running.id],
      }),
      1_500,
    )!;
    expect(holderAmong([holder], running.id)).toBe(holder);
    expect(holderAmong([holder], "other")).toBeUndefined();
    expect(holderAmong(null, running.id)).toBeUndefined();
    const detail = renderTaskDetail(running, "q", {
      heartbeat: "1s ago",
      worker: holderDetail(holder),
    });
    expect(detail).toMatch(
      /^heartbeat\s+1s ago\nworker\s+01234567 on box-1 \(pid 4242; sheppy worker list shows it\)$/m,
    );
    const lease = { renewedAgoMs: 1_000, leaseMs: 20_000 };
    expect(withClaim(running, lease, holder)).toEqual({
      ...running,
      claim: { ...lease, worker: { id: "0123456789abcdef", host: "box-1", pid: 4242 } },
    });
  });

  it("reads the claims of the running rows from the backend, in one call; none when nothing runs", async () => {
    const backend = new MemoryBackend();
    await backend.connect();
    const [a, b] = [record(5), record(6)];
    await backend.add("q", [a, b]);
    const [claim] = await backend.claim("q", 1, 0, undefined, 20_000);
    const rows = [{ ...claim!.record }, { ...b }];
    expect(await runningClaims(backend, "q", [b])).toBeUndefined();
    await sleep(50);
    const claims = await runningClaims(backend, "q", rows);
    expect([...claims!.keys()]).toEqual([a.id]);
    expect(claims!.get(a.id)!.leaseMs).toBe(20_000);
    expect(claims!.get(a.id)!.renewedAgoMs).toBeGreaterThanOrEqual(40);
    await backend.disconnect();
  });
});
