/**
 * The HTTP API (`sheppy/http`) over this backend: every route, its answers,
 * and the refusals — bad input 400, nothing there 404, a wrong method 405, a
 * change without a JSON body 415 or from another origin 403, read-only mode,
 * `authorize`, and a server error that shows no stack.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createHttpHandler, type HttpHandlerOptions } from "../../http/index.js";
import { RESPONSES } from "../../http/response-schemas.js";
import { ROUTES } from "../../http/routes.js";
import { InvalidOptionError, step, task, workflow } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { settleClaim } from "../support/records.js";
import { until } from "../support/until.js";

const add = task({ name: "http-api.add" }, (a: number, b: number) => a + b);
const strict = task(
  { name: "http-api.strict", args: z.tuple([z.string().email()]) },
  (email: string) => email,
);
const pair = workflow({ name: "http-api.pair" }, function* (x: number) {
  const t = yield* step(add(x, 1));
  return t.result;
});
/** Tokens of the `givesUp` workflows whose body has been fixed. */
const fixedFlows = new Set<string>();
const givesUp = workflow({ name: "http-api.gives-up" }, function* (token: string) {
  const t = yield* step(add(1, 1));
  if (!fixedFlows.has(token)) throw new Error("gave up");
  return t.result;
});
// Registered for the routes that add tasks by name; never called here.
void strict;

const echo = task({ name: "http-api.echo" }, (value: unknown) => value);
/** Tokens whose outage is over: a `flaky` task of one of them succeeds. */
const recovered = new Set<string>();
const flaky = task({ name: "http-api.flaky" }, (token: string) => {
  if (!recovered.has(token)) throw new Error("the payment API is down");
  return token;
});
const keyed = task(
  {
    name: "http-api.keyed",
    priority: 5,
    concurrency: { key: (tenant: string) => tenant, limit: 2 },
  },
  (tenant: string) => tenant,
);
void keyed;
const ORIGIN = "http://localhost";

/** The route a request reaches: its `METHOD path` key, the most specific one when several match. */
function routeKey(method: string, path: string): string | undefined {
  const bare = path.split("?")[0]!;
  const matching = ROUTES.filter(
    (route) =>
      route.method === method &&
      new RegExp(`^${route.path.replace(/\{\w+\}/g, "[^/]+")}$`).test(bare),
  );
  // The most specific: the fewest parameters (`/tasks/clear` before `/tasks/{id}`).
  const params = (route: { path: string }) => route.path.split("{").length;
  const best = matching.sort((a, b) => params(a) - params(b))[0];
  return best === undefined ? undefined : `${best.method} ${best.path}`;
}

/** Checks `body`, a success answered to `method path`, against the document's schema of it. */
function expectDocumented(method: string, path: string, body: unknown): void {
  const key = routeKey(method, path);
  if (key === undefined || key === "GET /openapi.json") return;
  const schema = RESPONSES[key];
  expect(schema, `${key} has a documented answer`).toBeDefined();
  const checked = schema!.safeParse(body);
  expect(checked.success ? [] : checked.error.issues, `${method} ${path}`).toEqual([]);
}

export function httpApiCases(h: ContractHarness): void {
  /** A handler over this test's backend and a fresh queue of it, with a JSON helper. */
  const api = (options: HttpHandlerOptions = {}) => {
    const queue = h.queue();
    const handler = createHttpHandler(queue.backend, options);
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const response = await handler(
        new Request(`${ORIGIN}${path}`, {
          method,
          headers:
            body === undefined ? headers : { "content-type": "application/json", ...headers },
          ...(body === undefined
            ? {}
            : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        }),
      );
      const text = await response.text();
      const answer = text ? JSON.parse(text) : null;
      // Every success is what the OpenAPI document says it is.
      if (response.ok && response.headers.get("content-type")?.startsWith("application/json")) {
        expectDocumented(method, path, answer);
      }
      return { status: response.status, body: answer, headers: response.headers };
    };
    return { queue, q: queue.name, call };
  };

  describe("http api", () => {
    it("a task added by name gets what its factory would give it: the definition's priority and concurrency key, on a cron's runs too", async () => {
      const { queue, q, call } = api();
      const added = await call("POST", `/${q}/tasks`, { name: "http-api.keyed", args: ["acme"] });
      expect(added.body.task).toMatchObject({
        priority: 5,
        concurrencyKey: "acme",
        concurrencyLimit: 2,
      });
      const scheduled = await call("POST", `/${q}/tasks/schedule`, {
        name: "http-api.keyed",
        args: ["globex"],
        at: 3600,
      });
      expect(scheduled.body.task).toMatchObject({ priority: 5, concurrencyKey: "globex" });
      await call("POST", `/${q}/crons`, {
        name: "http-api.keyed",
        args: ["initech"],
        every: 60,
      });
      const runs = (await queue.getScheduled()).filter((t) => t.cronId !== null);
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) {
        expect([run.priority, run.concurrencyKey, run.concurrencyLimit]).toEqual([5, "initech", 2]);
      }
    });

    it("tasks: an add under an id of the caller's is made once — sent again (after a 503, a lost answer) it adds nothing and answers the task as stored", async () => {
      const { q, call } = api();
      const first = await call("POST", `/${q}/tasks`, {
        name: "http-api.add",
        args: [2, 3],
        id: "order-42",
      });
      expect(first).toMatchObject({
        status: 201,
        body: { added: true, task: { id: "order-42", args: [2, 3], status: "pending" } },
      });
      const again = await call("POST", `/${q}/tasks`, {
        name: "http-api.add",
        args: [9, 9],
        id: "order-42",
      });
      expect(again.body).toMatchObject({ added: false, task: { id: "order-42", args: [2, 3] } });
      // Other arguments under the id: dropped, and said so.
      expect(again.body.warnings).toEqual([
        "task order-42 was already held with other arguments ([2,3]): it was left as it is, and these arguments were not used (use another id)",
      ]);
      const scheduled = await call("POST", `/${q}/tasks/schedule`, {
        name: "http-api.add",
        args: [1, 1],
        at: 3600,
        id: "report-7",
      });
      expect(scheduled.body).toMatchObject({
        added: true,
        task: { id: "report-7", status: "scheduled" },
      });
      const resent = await call("POST", `/${q}/tasks/schedule`, {
        name: "http-api.add",
        args: [1, 1],
        at: 60,
        id: "report-7",
      });
      // The same task sent again: nothing to warn of.
      expect(resent.body.added).toBe(false);
      expect(resent.body).not.toHaveProperty("warnings");
      expect((await call("GET", `/${q}/stats`)).body).toMatchObject({ pending: 1, scheduled: 1 });
      const bad = await call("POST", `/${q}/tasks`, { name: "http-api.add", args: [1, 1], id: "" });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/^id must be /);
    });

    it("tasks: add by name, read, list by status and page, pending, retry, cancel, delete, clear", async () => {
      const { queue, q, call } = api();
      const added = await call("POST", `/${q}/tasks`, { name: "http-api.add", args: [2, 3] });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({
        added: true,
        task: { name: "http-api.add", args: [2, 3], status: "pending" },
      });
      expect(added.body.warnings).toBeUndefined();
      const id = added.body.task.id as string;
      expect((await call("GET", "/queues")).body).toMatchObject({ [q]: 1 });
      expect((await call("GET", `/${q}/size`)).body).toEqual({ size: 1 });
      expect(
        (await call("GET", `/${q}/tasks/pending?limit=5`)).body.map((t: { id: string }) => t.id),
      ).toEqual([id]);
      expect((await call("GET", `/${q}/tasks/${id}`)).body).toMatchObject({
        id,
        status: "pending",
      });
      expect((await call("GET", `/${q}/stats`)).body).toMatchObject({ pending: 1, completed: 0 });

      await h.worker(queue).work({ oneshot: true });
      expect((await call("GET", `/${q}/tasks/${id}`)).body).toMatchObject({
        status: "completed",
        result: 5,
      });
      const done = await call("GET", `/${q}/tasks?status=completed`);
      expect(done.body.tasks.map((t: { id: string }) => t.id)).toEqual([id]);
      expect((await call("GET", `/${q}/tasks?status=failed`)).body.tasks).toEqual([]);
      expect((await call("GET", `/${q}/tasks?status=bogus`)).status).toBe(400);

      expect(await call("POST", `/${q}/tasks/${id}/retry`, {})).toMatchObject({
        status: 409,
        body: { reason: "completed" },
      });
      const forced = await call("POST", `/${q}/tasks/${id}/retry`, { force: true });
      expect(forced).toMatchObject({ status: 200, body: { id, status: "pending" } });
      const cancelled = await call("POST", `/${q}/tasks/${id}/cancel`, {});
      expect(cancelled).toMatchObject({ status: 200, body: { id, status: "cancelled" } });
      // A DELETE with a body that is not JSON is refused; without one (fetch's default) it needs no type.
      expect(
        (await call("DELETE", `/${q}/tasks/${id}`, "x", { "content-type": "text/plain" })).status,
      ).toBe(415);
      expect((await call("DELETE", `/${q}/tasks/${id}`)).body).toEqual({ deleted: true });
      expect((await call("GET", `/${q}/tasks/${id}`)).status).toBe(404);

      await call("POST", `/${q}/tasks`, { name: "http-api.add", args: [1, 1] });
      expect((await call("POST", `/${q}/tasks/clear`, {})).body).toEqual({ removed: 1 });
    });

    it("reschedule: a scheduled task moved to now, then an hour ahead at another priority; a finished one is 409, an unknown one 404", async () => {
      const { queue, q, call } = api();
      const scheduled = await call("POST", `/${q}/tasks/schedule`, {
        name: "http-api.add",
        args: [4, 4],
        at: 3600,
      });
      const id = scheduled.body.task.id as string;
      const now = await call("POST", `/${q}/tasks/${id}/reschedule`, {});
      expect(now).toMatchObject({
        status: 200,
        body: { id, status: "pending", scheduledAt: null },
      });
      const at = new Date(Date.now() + 3_600_000).toISOString();
      const later = await call("POST", `/${q}/tasks/${id}/reschedule`, { at, priority: 7 });
      expect(later).toMatchObject({
        status: 200,
        body: { id, status: "scheduled", scheduledAt: at, priority: 7 },
      });
      const typo = await call("POST", `/${q}/tasks/${id}/reschedule`, { when: 5 });
      expect(typo.status).toBe(400);
      expect((await call("POST", `/${q}/tasks/${randomUUID()}/reschedule`, {})).status).toBe(404);
      await call("POST", `/${q}/tasks/${id}/reschedule`, {});
      await h.worker(queue).work({ oneshot: true });
      const finished = await call("POST", `/${q}/tasks/${id}/reschedule`, {});
      expect(finished.status).toBe(409);
      expect(finished.body.error).toMatch(/status 'completed'/);
      expect(finished.body.reason).toBe("finished");
    });

    it("a running task: cancel without force is 409 naming force; with { force: true } it is cancelled", async () => {
      const { queue, q, call } = api();
      const t = add(2, 2);
      await queue.add(t);
      const backend = await queue.connect();
      await backend.claim(q, 1);
      const refused = await call("POST", `/${q}/tasks/${t.id}/cancel`, {});
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatch(/already running .*force: true/);
      expect(refused.body.reason).toBe("running");
      expect((await call("POST", `/${q}/tasks/${t.id}/cancel`, { force: "yes" })).status).toBe(400);
      const cancelled = await call("POST", `/${q}/tasks/${t.id}/cancel`, { force: true });
      expect(cancelled).toMatchObject({ status: 200, body: { id: t.id, status: "cancelled" } });
      expect((await queue.getTask(t))?.status).toBe("cancelled");
    });

    h.itIfReportsClaimLeases("the backend does not report claims' leases (optional)")(
      "GET a running task adds its claim's heartbeat (time since its last renewal, its lease); a waiting or finished one has none",
      async () => {
        const { queue, q, call } = api();
        const [running, waiting] = [add(3, 4), add(5, 6)];
        await queue.add(running);
        const backend = await queue.connect();
        const [claim] = await backend.claim(q, 1, 0, undefined, 20_000);
        await queue.add(waiting);
        const got = await call("GET", `/${q}/tasks/${running.id}`);
        expect(got.status).toBe(200);
        expect(got.body).toMatchObject({ id: running.id, status: "processing" });
        expect(got.body.claim.leaseMs).toBe(20_000);
        expect(got.body.claim.renewedAgoMs).toBeGreaterThanOrEqual(0);
        expect(got.body.claim.renewedAgoMs).toBeLessThan(20_000);
        expect((await call("GET", `/${q}/tasks/${waiting.id}`)).body).not.toHaveProperty("claim");
        await settleClaim(backend, q, claim!);
        expect((await call("GET", `/${q}/tasks/${running.id}`)).body).not.toHaveProperty("claim");
      },
    );

    h.itIfListsWorkers("the backend keeps no worker directory (optional)")(
      "GET /{queue}/workers lists the workers serving the queue, and its stats count those running its tasks",
      async () => {
        const { queue, q, call } = api();
        // Asked of a queue that holds nothing yet: none serves it (a deploy's check), not a 404.
        expect(await call("GET", `/${q}/workers`)).toMatchObject({
          status: 200,
          body: { workers: [] },
        });
        await queue.add(add(1, 2));
        expect((await call("GET", `/${q}/stats`)).body).toMatchObject({ pending: 1, workers: 0 });
        const worker = h.worker(queue, { heartbeatInterval: 0.2, leaseTimeout: 2 });
        const running = worker.work();
        await until(async () => ((await queue.workers()) ?? []).length === 1);
        const listed = await call("GET", `/${q}/workers`);
        expect(listed.status).toBe(200);
        expect(listed.body.workers).toEqual([
          expect.objectContaining({ pid: process.pid, queues: [q], processing: true }),
        ]);
        expect((await call("GET", `/${q}/stats`)).body).toMatchObject({ workers: 1 });
        await worker.close();
        await running;
        expect((await call("GET", `/${q}/workers`)).body).toEqual({ workers: [] });
      },
    );

    it("a task given fewer arguments than its function declares is added, with a warning saying so", async () => {
      const { queue, q, call } = api();
      const added = await call("POST", `/${q}/tasks`, { name: "http-api.add" });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ added: true, task: { name: "http-api.add", args: [] } });
      expect(added.body.warnings).toEqual([
        "task 'http-api.add' declares 2 parameters and was given 0 arguments; without an args schema nothing checks them before it runs (give the task an args schema to refuse them when it is added)",
      ]);
      const scheduled = await call("POST", `/${q}/tasks/schedule`, {
        name: "http-api.add",
        args: [1],
        at: 60,
      });
      expect(scheduled.status).toBe(201);
      expect(scheduled.body.warnings).toEqual([expect.stringMatching(/given 1 argument;/)]);
      expect(await queue.size()).toBe(1);
    });

    it("GET /{queue}/tasks lists newest first, a page at a time, filtered by the server: statuses, names, keys, error text, finish window", async () => {
      const { queue, q, call } = api();
      const backend = await queue.connect();
      const base = Date.now() - 3_600_000;
      const records = Array.from({ length: 6 }, (_, i) => ({
        ...add(i, i).toJSON(),
        status: "pending" as const,
        createdAt: new Date(base + i * 1000).toISOString(),
        // Every other one a tenant's, under a key with a comma in it.
        ...(i % 2 === 0 ? { concurrencyKey: "tenant:a,b", concurrencyLimit: 10 } : {}),
      }));
      await backend.add(q, records);
      const claims = await backend.claim(q, 6);
      const failing = new Set([records[1]!.id, records[4]!.id]);
      await backend.settle(
        q,
        claims.map((c) => ({
          fence: c.fence,
          record: failing.has(c.record.id)
            ? {
                ...c.record,
                status: "failed" as const,
                // records[1] failed half an hour ago, of a 503; records[4] just now, of a reset.
                ...(c.record.id === records[1]!.id
                  ? {
                      finishedAt: new Date(Date.now() - 1_800_000).toISOString(),
                      error: { type: "HttpError", message: "503", stack: null, cause: null },
                    }
                  : {
                      finishedAt: new Date().toISOString(),
                      error: { type: "ECONNRESET", message: "hang up", stack: null, cause: null },
                    }),
              }
            : { ...c.record, status: "completed" as const, finishedAt: new Date().toISOString() },
          children: [],
          expiresAt: null,
        })),
        Date.now(),
      );
      /** Every page of `query` from the start: the ids in order and how many pages. */
      const walk = async (query: string) => {
        const found: string[] = [];
        let pages = 0;
        let cursor: string | null = null;
        do {
          const next = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
          const page = await call("GET", `/${q}/tasks?${query}${next}`);
          expect(page.status).toBe(200);
          found.push(...page.body.tasks.map((t: { id: string }) => t.id));
          cursor = page.body.cursor;
          pages++;
        } while (cursor !== null && pages < 50);
        return { found, pages };
      };
      const newestFirst = records.map((r) => r.id).reverse();
      const all = await walk("limit=2");
      expect(all).toEqual({ found: newestFirst, pages: 3 });
      const failed = await walk("status=failed&limit=1");
      expect(failed.found).toEqual([records[4]!.id, records[1]!.id]);
      expect((await walk("status=completed,%20failed&limit=10")).found).toEqual(newestFirst);
      expect((await walk("status=crashed")).found).toEqual([]);
      // By task name, filtered by the server, alone or with statuses.
      const name = records[0]!.name;
      expect((await walk(`name=${encodeURIComponent(name)}&limit=4`)).found).toEqual(newestFirst);
      expect((await walk(`name=nope,${encodeURIComponent(name)}&status=failed`)).found).toEqual([
        records[4]!.id,
        records[1]!.id,
      ]);
      expect((await walk("name=nope&limit=2")).found).toEqual([]);
      expect((await call("GET", `/${q}/tasks?name=,,`)).status).toBe(400);
      // By concurrency key, matched whole (its comma included).
      const tenant = encodeURIComponent("tenant:a,b");
      expect((await walk(`concurrencyKey=${tenant}&limit=2`)).found).toEqual(
        newestFirst.filter((_, i) => i % 2 === 1),
      );
      expect((await walk(`concurrencyKey=${tenant}&status=failed`)).found).toEqual([
        records[4]!.id,
      ]);
      expect((await walk("concurrencyKey=tenant:a")).found).toEqual([]);
      expect((await call("GET", `/${q}/tasks?concurrencyKey=`)).status).toBe(400);
      // By stored error text and by when they finished: seconds before now, or ISO-8601.
      expect((await walk("error=503")).found).toEqual([records[1]!.id]);
      expect((await walk("error=ECONN&status=failed,completed")).found).toEqual([records[4]!.id]);
      expect((await walk("since=600&limit=1")).found).toEqual(
        newestFirst.filter((id) => id !== records[1]!.id),
      );
      const tenMinutesAgo = encodeURIComponent(new Date(Date.now() - 600_000).toISOString());
      expect((await walk(`before=${tenMinutesAgo}`)).found).toEqual([records[1]!.id]);
      const emptyWindow = await call("GET", `/${q}/tasks?since=600&before=3600`);
      expect(emptyWindow.status).toBe(400);
      expect(emptyWindow.body.error).toMatch(/^the window is empty/);
      expect((await call("GET", `/${q}/tasks?since=1h`)).status).toBe(400);
      // An empty filter says what it must be, as the listing's own check words it.
      expect((await call("GET", `/${q}/tasks?error=`)).body.error).toMatch(/^error must be text/);
      expect((await call("GET", `/${q}/tasks?dedupeKey=`)).body.error).toMatch(
        /^dedupeKey must be a dedupe key/,
      );
      // By dedupe key, matched whole.
      const keyed = add(7, 7);
      await queue.add(keyed, { dedupe: { key: "reindex:7" } });
      expect((await walk(`dedupeKey=${encodeURIComponent("reindex:7")}`)).found).toEqual([
        keyed.id,
      ]);
      expect((await walk("dedupeKey=reindex")).found).toEqual([]);
      // A cursor's shape is not enough: it must be one a page returned.
      const page = await call("GET", `/${q}/tasks?limit=1`);
      expect(page.body.cursor).toMatch(/^\d+\.[\w-]+$/);
      for (const bad of ["1.YR", `${page.body.cursor}A`, `0${page.body.cursor}`, "12"]) {
        const refused = await call("GET", `/${q}/tasks?cursor=${bad}`);
        expect(refused.status, bad).toBe(400);
        expect(refused.body.error).toMatch(/^invalid query: cursor: /);
      }
    });

    it("scheduled tasks, and crons: add, list with the next run, delete", async () => {
      const { q, call } = api();
      const scheduled = await call("POST", `/${q}/tasks/schedule`, {
        name: "http-api.add",
        args: [1, 2],
        at: 3600,
      });
      expect(scheduled).toMatchObject({
        status: 201,
        body: { added: true, task: { status: "scheduled" } },
      });
      const listed = await call("GET", `/${q}/tasks/scheduled`);
      expect(listed.body.map((t: { id: string }) => t.id)).toEqual([scheduled.body.task.id]);
      const cron = await call("POST", `/${q}/crons`, {
        name: "http-api.add",
        args: [1, 1],
        expression: "0 9 * * *",
      });
      expect(cron).toMatchObject({ status: 201, body: { added: true } });
      const crons = (await call("GET", `/${q}/crons`)).body;
      expect(crons).toHaveLength(1);
      expect(crons[0]).toMatchObject({ name: "http-api.add", expression: "0 9 * * *" });
      expect(typeof crons[0].nextRunAt).toBe("string");
      expect((await call("DELETE", `/${q}/crons/${crons[0].deterministicId}`, {})).body).toEqual({
        deleted: true,
      });
      expect((await call("GET", `/${q}/crons`)).body).toEqual([]);
      // A queue of crons alone, none fired yet, is listed too.
      const crons2 = api();
      await call("POST", `/${crons2.q}/crons`, { name: "http-api.add", args: [2, 2], every: 3600 });
      expect((await call("GET", "/queues")).body).toMatchObject({ [crons2.q]: 0 });
      expect(
        (await call("POST", `/${q}/crons`, { name: "http-api.add", expression: "every day" }))
          .status,
      ).toBe(400);
    });

    it("a cron a config file declares: DELETE is a 409 saying its workers would create it again; with force it goes", async () => {
      const { queue, q, call } = api();
      const dir = mkdtempSync(join(tmpdir(), "sheppy-http-crons-"));
      const configFile = join(dir, "sheppy.config.json");
      writeFileSync(
        configFile,
        JSON.stringify({ crons: [{ task: "http-api.add", expression: "@hourly", args: [1, 2] }] }),
      );
      const worker = h.worker(queue, { configFile, processing: false, scheduler: false });
      const running = worker.work();
      try {
        await until(async () => (await queue.getCrons()).length === 1, { what: "declared cron" });
      } finally {
        await worker.close();
        await running;
        rmSync(dir, { recursive: true, force: true });
      }
      const [declared] = (await call("GET", `/${q}/crons`)).body;
      expect(declared).toMatchObject({ managedBy: "config" });
      const refused = await call("DELETE", `/${q}/crons/${declared.deterministicId}`, {});
      expect(refused.status).toBe(409);
      expect(refused.body.error).toContain("created from a worker's config file");
      expect(refused.body.error).toContain('send { "force": true }');
      expect(await queue.getCrons()).toHaveLength(1);
      expect(
        await call("DELETE", `/${q}/crons/${declared.deterministicId}`, { force: true }),
      ).toMatchObject({ status: 200, body: { deleted: true } });
      expect(await queue.getCrons()).toEqual([]);
    });

    it("crons every N seconds and in a time zone: add, list with the schedule, one-line 400s", async () => {
      const { q, call } = api();
      const every = await call("POST", `/${q}/crons`, { name: "http-api.add", every: 30 });
      const zoned = await call("POST", `/${q}/crons`, {
        name: "http-api.add",
        expression: "30 2 * * *",
        timezone: "Europe/Berlin",
      });
      expect([every.status, zoned.status]).toEqual([201, 201]);
      const crons = (await call("GET", `/${q}/crons`)).body;
      const byId = new Map(crons.map((c: { deterministicId: string }) => [c.deterministicId, c]));
      expect(byId.get(every.body.deterministicId)).toMatchObject({
        expression: null,
        every: 30,
        timezone: null,
      });
      expect(byId.get(zoned.body.deterministicId)).toMatchObject({
        expression: "30 2 * * *",
        every: null,
        timezone: "Europe/Berlin",
      });
      const refused = [
        { name: "http-api.add" },
        { name: "http-api.add", expression: "@daily", every: 30 },
        { name: "http-api.add", every: 0 },
        { name: "http-api.add", every: 30, timezone: "UTC" },
        { name: "http-api.add", expression: "@daily", timezone: "Mars/Olympus" },
      ];
      const errors: string[] = [];
      for (const body of refused) {
        const response = await call("POST", `/${q}/crons`, body);
        expect(response.status).toBe(400);
        expect(response.body.error).not.toContain("\n");
        errors.push(response.body.error);
      }
      // Neither given and both given are told apart.
      expect(errors[0]).toBe("say when: give 'expression' (cron text) or 'every' (seconds)");
      expect(errors[1]).toBe("give 'expression' (cron text) or 'every' (seconds), not both");
      expect((await call("GET", `/${q}/crons`)).body).toHaveLength(2);
    });

    it("workflows: list, detail with steps, cancel", async () => {
      const { queue, q, call } = api();
      const running = await queue.addWorkflow(pair(1));
      const listed = await call("GET", `/${q}/workflows?running=true`);
      expect(listed.body.workflows.map((w: { id: string }) => w.id)).toEqual([running.id]);
      expect(listed.body.cursor).toBeNull();
      // Paged on the server: every workflow once, across pages.
      const more = await Promise.all([2, 3, 4].map((n) => queue.addWorkflow(pair(n))));
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(
          "GET",
          `/${q}/workflows?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`,
        );
        expect(page.status).toBe(200);
        ids.push(...page.body.workflows.map((w: { id: string }) => w.id));
        cursor = page.body.cursor;
      } while (cursor !== null);
      expect(new Set(ids)).toEqual(new Set([running.id, ...more.map((w) => w.id)]));
      expect((await call("GET", `/${q}/workflows?cursor=abc`)).status).toBe(400);
      // By status, filtered by the server.
      await queue.cancelWorkflow(more[2]!.id);
      const ofStatus = async (status: string) => {
        const found: string[] = [];
        let next: string | null = null;
        do {
          const page = await call(
            "GET",
            `/${q}/workflows?status=${status}${next === null ? "" : `&cursor=${next}`}`,
          );
          expect(page.status).toBe(200);
          found.push(...page.body.workflows.map((w: { id: string }) => w.id));
          next = page.body.cursor;
        } while (next !== null);
        return found.sort();
      };
      expect(await ofStatus("cancelled")).toEqual([more[2]!.id]);
      expect(await ofStatus("failed,%20cancelled")).toEqual([more[2]!.id]);
      expect(await ofStatus("running")).toEqual([running.id, more[0]!.id, more[1]!.id].sort());
      const badStatus = await call("GET", `/${q}/workflows?status=done`);
      expect([badStatus.status, badStatus.body.error]).toEqual([
        400,
        "unknown workflow status 'done' (one of: running, completed, failed, cancelled)",
      ]);
      expect((await call("GET", `/${q}/workflows?status=failed&running=true`)).status).toBe(400);
      const detail = await call("GET", `/${q}/workflows/${running.id}`);
      expect(detail.body.workflow).toMatchObject({ id: running.id, status: "running" });
      expect(detail.body.steps).toHaveLength(1);
      expect(
        (await call("POST", `/${q}/workflows/${running.id}/cancel`, { force: "yes" })).status,
      ).toBe(400);
      expect(
        (await call("POST", `/${q}/workflows/${running.id}/cancel`, { force: true })).body,
      ).toMatchObject({ status: "cancelled" });
      expect((await call("POST", `/${q}/workflows/${running.id}/cancel`, {})).status).toBe(409);
      expect((await call("GET", `/${q}/workflows/${randomUUID()}`)).status).toBe(404);
      // Delete: a running workflow is a 409 saying to cancel it; a finished one goes, once.
      const stillRunning = await call("DELETE", `/${q}/workflows/${more[0]!.id}`);
      expect(stillRunning.status).toBe(409);
      expect(stillRunning.body.error).toMatch(/still running; cancel it first$/);
      expect((await call("DELETE", `/${q}/workflows/${running.id}`)).body).toEqual({
        deleted: true,
      });
      expect((await call("GET", `/${q}/workflows/${running.id}`)).status).toBe(404);
      expect((await call("DELETE", `/${q}/workflows/${running.id}`)).status).toBe(404);
    });

    it("workflows: POST /workflows starts one by name (201), under an id of the caller's once (added: false after), with a warning when given fewer arguments than its body declares; 400 for a task's name, an unknown one, an empty id or an unknown field; 403 when the caller may not add it", async () => {
      const { queue, q, call } = api();
      const started = await call("POST", `/${q}/workflows`, { name: "http-api.pair", args: [3] });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({
        added: true,
        workflow: { name: "http-api.pair", args: [3], status: "running" },
      });
      expect(started.body.workflow.steps).toHaveLength(1);
      const id = `order-${randomUUID()}`;
      const first = await call("POST", `/${q}/workflows`, { name: "http-api.pair", args: [4], id });
      expect([first.status, first.body.added, first.body.workflow.id]).toEqual([201, true, id]);
      const again = await call("POST", `/${q}/workflows`, { name: "http-api.pair", args: [9], id });
      expect([again.status, again.body.added, again.body.workflow.args]).toEqual([201, false, [4]]);
      expect(again.body.warnings).toEqual([
        `workflow ${id} was already held with other arguments ([4]): it was left as it is, and these arguments were not used (use another id)`,
      ]);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.waitForWorkflow(id, { timeout: 10 })).status).toBe("completed");

      const refusals: [unknown, number, RegExp][] = [
        [
          { name: "http-api.add", args: [1, 2] },
          400,
          /^'http-api\.add' is a task, not a workflow: add it with POST \/\{queue\}\/tasks$/,
        ],
        [
          { name: "http-api.no-such-flow" },
          400,
          /^no workflow named 'http-api\.no-such-flow' is defined in the serving process$/,
        ],
        [{ name: "workflow:http-api.pair" }, 400, /^no workflow named 'workflow:http-api\.pair'/],
        [{ name: "http-api.pair", args: [1], id: "" }, 400, /id/],
        [{ name: "http-api.pair", idd: "x" }, 400, /idd/],
      ];
      for (const [body, status, message] of refusals) {
        const refused = await call("POST", `/${q}/workflows`, body);
        expect([refused.status, refused.body.error]).toEqual([
          status,
          expect.stringMatching(message),
        ]);
        expect(refused.body.error).not.toContain("\n");
      }
      const limited = createHttpHandler(queue.backend, { addableTasks: ["http-api.add"] });
      const forbidden = await limited(
        new Request(`${ORIGIN}/${q}/workflows`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "http-api.pair", args: [1] }),
        }),
      );
      expect([forbidden.status, ((await forbidden.json()) as { error: string }).error]).toEqual([
        403,
        "workflow 'http-api.pair' may not be added through this API (it may add: http-api.add)",
      ]);
      // Two started (one of them asked for again): nothing else was added.
      expect((await queue.getAllWorkflows()).length).toBe(2);
      expect(started.body).not.toHaveProperty("warnings");
      // Fewer arguments than its body declares, without an args schema: started, with a warning.
      const short = await call("POST", `/${q}/workflows`, { name: "http-api.pair" });
      expect([short.status, short.body.warnings]).toEqual([
        201,
        [
          "workflow 'http-api.pair' declares 1 parameter and was given 0 arguments; without an args schema nothing checks them before it runs (give the workflow an args schema to refuse them when it is added)",
        ],
      ]);
    });

    it("workflows: retry runs a failed one again; 409 for one not failed, 404 for an unknown one, 403 when the caller may not add it", async () => {
      const { queue, q, call } = api();
      const token = randomUUID();
      const wf = await queue.addWorkflow(givesUp(token));
      expect((await call("POST", `/${q}/workflows/${wf.id}/retry`, {})).status).toBe(409);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.waitForWorkflow(wf, { timeout: 10 })).status).toBe("failed");
      const limited = createHttpHandler(queue.backend, { addableTasks: ["http-api.add"] });
      const refused = await limited(
        new Request(`${ORIGIN}/${q}/workflows/${wf.id}/retry`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        }),
      );
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toBe(
        "workflow 'http-api.gives-up' may not be retried through this API (it may add: http-api.add)",
      );
      fixedFlows.add(token);
      const retried = await call("POST", `/${q}/workflows/${wf.id}/retry`, {});
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ id: wf.id, error: null, finishedAt: null });
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.waitForWorkflow(wf, { timeout: 10 })).result).toBe(2);
      expect((await call("POST", `/${q}/workflows/${wf.id}/retry`, {})).status).toBe(409);
      expect((await call("POST", `/${q}/workflows/${randomUUID()}/retry`, {})).status).toBe(404);
      expect((await call("POST", `/${q}/workflows/${wf.id}/retry`, { force: true })).status).toBe(
        400,
      );
    });

    it("bulk: POST /tasks/retry runs every failed task (of some names, statuses, since) again, POST /tasks/cancel cancels a backlog, and a redrive of the cancelled undoes it; dryRun previews each", async () => {
      const { queue, q, call } = api();
      const token = randomUUID();
      const failing = [flaky(token), flaky(token), flaky(token)];
      await queue.add(failing);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.stats()).failed).toBe(3);
      // A caller limited to some task names must name them, and only those.
      const limited = createHttpHandler(queue.backend, { addableTasks: ["http-api.add"] });
      const post = (path: string, body: unknown) =>
        limited(
          new Request(`${ORIGIN}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          }),
        );
      const unnamed = await post(`/${q}/tasks/retry`, {});
      expect([unnamed.status, ((await unnamed.json()) as { error: string }).error]).toEqual([
        403,
        "name the tasks to run again: this API may run again only tasks it may add (it may add: http-api.add)",
      ]);
      expect((await post(`/${q}/tasks/retry`, { name: "http-api.flaky" })).status).toBe(403);
      expect((await call("POST", `/${q}/tasks/retry`, { status: "pending" })).status).toBe(400);
      expect((await call("POST", `/${q}/tasks/retry`, { name: [] })).status).toBe(400);

      // A preview counts and changes nothing.
      const preview = await call("POST", `/${q}/tasks/retry`, {
        name: "http-api.flaky",
        dryRun: true,
      });
      expect(preview).toMatchObject({
        status: 200,
        body: { retried: 3, skipped: 0, endedWorkflowSteps: 0 },
      });
      expect((await queue.stats()).failed).toBe(3);
      expect((await call("POST", `/${q}/tasks/retry`, { dryRun: "yes" })).status).toBe(400);

      recovered.add(token);
      const retried = await call("POST", `/${q}/tasks/retry`, {
        name: "http-api.flaky",
        since: 3600,
      });
      expect(retried).toMatchObject({
        status: 200,
        body: { retried: 3, skipped: 0, endedWorkflowSteps: 0 },
      });
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(failing);
      expect(done.map((t) => t?.status)).toEqual(["completed", "completed", "completed"]);

      const later = [echo("a"), echo("b")];
      for (const t of later) await queue.schedule(t, 3600);
      const due = (await queue.getTask(later)).map((t) => t?.scheduledAt);
      const wouldCancel = await call("POST", `/${q}/tasks/cancel`, { dryRun: true });
      expect(wouldCancel).toMatchObject({ status: 200, body: { cancelled: 2, skipped: 0 } });
      expect((await queue.getScheduled()).length).toBe(2);
      const cancelled = await call("POST", `/${q}/tasks/cancel`, { name: ["http-api.echo"] });
      expect(cancelled).toMatchObject({ status: 200, body: { cancelled: 2, skipped: 0 } });
      expect((await call("POST", `/${q}/tasks/cancel`, { status: "completed" })).status).toBe(400);
      const undone = await call("POST", `/${q}/tasks/retry`, { status: ["cancelled"] });
      expect(undone.body).toMatchObject({ retried: 2 });
      const back = await queue.getTask(later);
      expect(back.map((t) => [t?.status, t?.scheduledAt])).toEqual(
        due.map((at) => ["scheduled", at]),
      );
      // A queue that holds nothing (a misspelt name) is a 404, not a success that did nothing.
      for (const action of ["retry", "cancel", "delete"]) {
        expect((await call("POST", `/${q}-typo/tasks/${action}`, {})).status).toBe(404);
      }
      // Purge: the finished records go, the scheduled ones stay.
      expect((await call("POST", `/${q}/tasks/delete`, { status: "pending" })).status).toBe(400);
      expect((await call("POST", `/${q}/tasks/delete`, { before: "soon" })).status).toBe(400);
      const wouldPurge = await call("POST", `/${q}/tasks/delete`, { dryRun: true });
      expect(wouldPurge).toMatchObject({ status: 200, body: { deleted: 3, skipped: 0 } });
      expect((await queue.getTask(failing)).map((t) => t?.status)).toEqual([
        "completed",
        "completed",
        "completed",
      ]);
      const purged = await call("POST", `/${q}/tasks/delete`, { status: "completed" });
      expect(purged).toMatchObject({ status: 200, body: { deleted: 3, skipped: 0 } });
      expect(await queue.getTask(failing)).toEqual([null, null, null]);
      expect((await queue.getScheduled()).length).toBe(2);
    });

    it("refusals: 400 bad JSON or arguments (with the validator's issues), 404, 405, 415, cross-origin 403", async () => {
      const { q, call } = api();
      await call("POST", `/${q}/tasks`, { name: "http-api.add", args: [0, 0] });
      expect((await call("POST", `/${q}/tasks`, "{not json")).status).toBe(400);
      const invalid = await call("POST", `/${q}/tasks`, {
        name: "http-api.strict",
        args: ["nope"],
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.issues.length).toBeGreaterThan(0);
      expect((await call("POST", `/${q}/tasks`, { args: [] })).status).toBe(400);
      const unknown = await call("POST", `/${q}/tasks`, { name: "http-api.unknown" });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatch(/^no task named 'http-api\.unknown'/);
      expect((await call("GET", `/${q}/tasks/${randomUUID()}`)).status).toBe(404);
      expect((await call("GET", "/no-such-queue/size")).status).toBe(404);
      expect((await call("GET", "/nothing/here/at/all/x")).status).toBe(404);
      const wrong = await call("PUT", `/${q}/tasks`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET, POST, HEAD");
      const plain = await call("POST", `/${q}/tasks/clear`, undefined, {
        "content-type": "text/plain",
      });
      expect(plain.status).toBe(415);
      const foreign = await call("POST", `/${q}/tasks/clear`, {}, { origin: "http://evil.test" });
      expect(foreign.status).toBe(403);
      expect((await call("POST", `/${q}/tasks/clear`, {}, { origin: ORIGIN })).status).toBe(200);
      // Behind a proxy that rewrote Host and passed the original on: the page's origin is that
      // host, which the API must be told it answers to.
      const proxied = { origin: "https://queues.example", "x-forwarded-host": "queues.example" };
      expect((await call("POST", `/${q}/tasks/clear`, {}, proxied)).status).toBe(403);
      const behindProxy = api({ allowedHosts: ["queues.example"] });
      const clear = `/${behindProxy.q}/tasks/clear`;
      expect((await behindProxy.call("POST", clear, {}, proxied)).status).toBe(200);
      const elsewhere = { origin: "http://evil.test", "x-forwarded-host": "queues.example" };
      expect((await behindProxy.call("POST", clear, {}, elsewhere)).status).toBe(403);
    });

    it("arguments are stored as the body's JSON holds them, a `__proto__` key included (as queue.add stores them); one nested too deep is a 400", async () => {
      const { queue, q, call } = api();
      const body = '{"name":"http-api.echo","args":[{"__proto__":{"admin":true},"user":"bob"}]}';
      const added = await call("POST", `/${q}/tasks`, body);
      expect(added.status).toBe(201);
      const direct = echo(JSON.parse('{"__proto__":{"admin":true},"user":"bob"}'));
      await queue.add(direct);
      const stored = await queue.getTask(added.body.task.id as string);
      expect(JSON.stringify(stored?.args)).toBe('[{"__proto__":{"admin":true},"user":"bob"}]');
      expect(JSON.stringify(stored?.args)).toBe(
        JSON.stringify((await queue.getTask(direct))?.args),
      );
      expect(Object.getPrototypeOf(stored?.args[0])).toBe(Object.prototype);
      const deep = `{"name":"http-api.echo","args":[${"[".repeat(100)}${"]".repeat(100)}]}`;
      const refused = await call("POST", `/${q}/tasks`, deep);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatch(/deeper than/);
    });

    it("a resume position the log never gave, or a scan cursor past any a backend gives, is a 400 (not a 200 stream, not a 500)", async () => {
      const { q, call } = api();
      await call("POST", `/${q}/tasks`, { name: "http-api.add", args: [1, 1] });
      const events = await call("GET", `/${q}/events?after=garbage`);
      expect(events.status).toBe(400);
      expect(events.body.error).toMatch(/position/);
      const typed = await call("GET", `/${q}/events?type=completed,finished`);
      expect(typed.status).toBe(400);
      expect(typed.body.error).toMatch(/unknown event type 'finished' \(one of: added, started/);
      for (const cursor of ["18446744073709551616", "99999999999999999999"]) {
        expect((await call("GET", `/${q}/workflows?cursor=${cursor}`)).status).toBe(400);
      }
      expect((await call("GET", `/${q}/workflows?cursor=0`)).status).toBe(200);
    });

    it("edge cases: bad cursors and path encoding, unknown keys, resume names, body size, crons by either id, a queue of crons, allowed origins", async () => {
      const { q, call } = api({ maxBodyBytes: 1000, allowedOrigins: ["https://app.example"] });
      await call("POST", `/${q}/tasks`, { name: "http-api.add", args: [1, 1] });
      const garbage = await call("GET", `/${q}/tasks?cursor=garbage`);
      expect(garbage.status).toBe(400);
      // One complaint about the cursor, not one per check it fails.
      expect(garbage.body.issues).toHaveLength(1);
      expect(garbage.body.error).toBe(
        'invalid query: cursor: a cursor from an earlier page (got "garbage")',
      );
      const workflowsGarbage = await call("GET", `/${q}/workflows?cursor=xyz`);
      expect(workflowsGarbage.status).toBe(400);
      expect(workflowsGarbage.body.issues).toHaveLength(1);
      expect(workflowsGarbage.body.error).toBe(
        'invalid query: cursor: a cursor from an earlier page (got "xyz")',
      );
      expect((await call("GET", "/%E0%A4/size")).status).toBe(400);
      expect(
        (await call("POST", `/${q}/tasks`, { name: "http-api.add", arg: [1, 2] })).status,
      ).toBe(400);
      expect(
        (await call("POST", `/${q}/tasks`, { name: "workflow:http-api.pair", args: ["x"] })).status,
      ).toBe(400);
      // A library error names what was wrong, not the method behind the route.
      const nul = await call("GET", `/${q}/workflows/%00`);
      expect(nul).toMatchObject({
        status: 400,
        body: { error: "a workflow id never holds the NUL character (U+0000)" },
      });
      // A workflow's own name is said to be one, not "no task named".
      const workflowByName = await call("POST", `/${q}/tasks`, {
        name: "http-api.pair",
        args: [1],
      });
      expect(workflowByName.status).toBe(400);
      expect(JSON.stringify(workflowByName.body)).toContain(
        "'http-api.pair' is a workflow, not a task: this route adds tasks",
      );
      expect(
        (await call("POST", `/${q}/tasks`, { name: "http-api.add", args: ["x".repeat(2000), 1] }))
          .status,
      ).toBe(413);
      expect((await call("POST", `/${q}/tasks/${randomUUID()}/cancel`, {})).status).toBe(404);
      const fromApp = await call(
        "POST",
        `/${q}/tasks/clear`,
        {},
        { origin: "https://app.example", "sec-fetch-site": "same-site" },
      );
      expect(fromApp.status).toBe(200);

      const crons = api();
      const cron = await crons.call("POST", `/${crons.q}/crons`, {
        name: "http-api.add",
        args: [1, 1],
        expression: "@hourly",
      });
      expect(cron.body).toEqual({ added: true, deterministicId: expect.any(String) });
      // A queue that holds only a cron is known.
      const listed = await crons.call("GET", `/${crons.q}/crons`);
      expect(listed.status).toBe(200);
      expect(listed.body[0].deterministicId).toBe(cron.body.deterministicId);
      // The registration id works too; an unknown one is a 404.
      expect(
        (await crons.call("DELETE", `/${crons.q}/crons/${listed.body[0].id}`, {})).body,
      ).toEqual({ deleted: true });
      expect(
        (await crons.call("DELETE", `/${crons.q}/crons/${cron.body.deterministicId}`, {})).status,
      ).toBe(404);
      // A live view may subscribe to a queue that holds nothing yet.
      const leave = new AbortController();
      const events = await createHttpHandler(h.queue().backend)(
        new Request(`${ORIGIN}/empty-${randomUUID().slice(0, 8)}/events`, { signal: leave.signal }),
      );
      expect(events.status).toBe(200);
      leave.abort();
    });

    it("read-only mode refuses every change; authorize runs first; a server error shows no stack", async () => {
      const readOnly = api({ readOnly: true });
      expect((await readOnly.call("GET", "/queues")).status).toBe(200);
      const refused = await readOnly.call("POST", `/${readOnly.q}/tasks`, {
        name: "http-api.add",
        args: [1, 1],
      });
      expect(refused).toMatchObject({ status: 403, body: { error: "this API is read-only" } });
      const guarded = api({ authorize: (request) => request.headers.get("x-token") === "t" });
      expect((await guarded.call("GET", "/queues")).status).toBe(403);
      expect((await guarded.call("GET", "/queues", undefined, { "x-token": "t" })).status).toBe(
        200,
      );
      // An authorize that throws refuses as a broken check: a 500 that hides why, logged.
      const authorizeLog: unknown[] = [];
      const throwing = api({
        authorize: () => Promise.reject(new Error("secret-detail")),
        logger: {
          debug() {},
          info() {},
          warn() {},
          error: (fields: unknown) => authorizeLog.push(fields),
        },
      });
      const check = await throwing.call("GET", "/queues");
      expect([check.status, check.body]).toEqual([500, { error: "internal error" }]);
      expect(authorizeLog).toHaveLength(1);
      expect(((authorizeLog[0] as { err: Error }).err as Error).message).toBe(
        "authorize threw: secret-detail",
      );
      // Anything but `true` is a refusal.
      const sloppy = api({ authorize: () => ({ user: "ada" }) as never });
      expect((await sloppy.call("GET", "/queues")).status).toBe(403);
      // A server error: no message, no stack — unless asked for.
      const backend = h.queue().backend;
      const failing = new Proxy(backend, {
        get(target, property) {
          if (property === "listQueues") return () => Promise.reject(new Error("secret-detail"));
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const logged: { fields: Record<string, unknown>; message: string }[] = [];
      const logger = {
        debug() {},
        info() {},
        warn() {},
        error(fields: object | string, message?: string) {
          logged.push({ fields: fields as Record<string, unknown>, message: message ?? "" });
        },
      };
      const hidden = await createHttpHandler(failing, { logger })(new Request(`${ORIGIN}/queues`));
      expect([hidden.status, await hidden.json()]).toEqual([500, { error: "internal error" }]);
      // The operator learns the cause: one line with the error, the method and the path.
      expect(logged).toHaveLength(1);
      expect(logged[0]!.fields).toMatchObject({ method: "GET", path: "/queues" });
      expect((logged[0]!.fields.err as Error).message).toBe("secret-detail");
      expect(logged[0]!.message).toMatch(/internal error/);
      // A caller's mistake is the caller's to read: no line.
      await createHttpHandler(failing, { logger })(new Request(`${ORIGIN}/q/tasks?limit=0`));
      expect(logged).toHaveLength(1);
      expect(() => createHttpHandler(failing, { logger: {} as never })).toThrow(InvalidOptionError);
      // A logger that itself fails leaves the answer a 500, never a rejected handler.
      const broken = {
        ...logger,
        error() {
          throw new Error("log sink down");
        },
      };
      const stillAnswered = await createHttpHandler(failing, { logger: broken })(
        new Request(`${ORIGIN}/queues`),
      );
      expect([stillAnswered.status, await stillAnswered.json()]).toEqual([
        500,
        { error: "internal error" },
      ]);
      const shown = await createHttpHandler(failing, { exposeErrors: true })(
        new Request(`${ORIGIN}/queues`),
      );
      expect(await shown.json()).toMatchObject({
        error: "secret-detail",
        stack: expect.stringContaining("Error"),
      });
    });

    it("POST /{queue}/pause and /resume pause and resume the queue; stats and events tell; read-only refuses both", async () => {
      const { queue, q, call } = api();
      await queue.add(add(1, 2));
      expect((await call("GET", `/${q}/stats`)).body).toMatchObject({ pending: 1, paused: false });
      expect(await call("POST", `/${q}/pause`, {})).toMatchObject({
        status: 200,
        body: { queue: q, paused: true },
      });
      expect(await queue.isPaused()).toBe(true);
      expect((await call("GET", `/${q}/stats`)).body).toMatchObject({ pending: 1, paused: true });
      expect(await h.worker(queue).work({ oneshot: true })).toMatchObject({ processed: 0 });
      // Changes, like every other: a JSON body is required.
      expect((await call("POST", `/${q}/resume`)).status).toBe(415);
      const readOnly = api({ readOnly: true });
      for (const action of ["pause", "resume"]) {
        expect(await readOnly.call("POST", `/${q}/${action}`, {})).toMatchObject({
          status: 403,
          body: { error: "this API is read-only" },
        });
      }
      expect(await queue.isPaused()).toBe(true);
      // A paused queue that holds nothing is still one the API shows, and lists.
      await queue.clear();
      expect((await call("GET", "/queues")).body).toMatchObject({ [q]: 0 });
      expect(await call("GET", `/${q}/stats`)).toMatchObject({
        status: 200,
        body: { pending: 0, paused: true },
      });
      expect(await call("POST", `/${q}/resume`, {})).toMatchObject({
        status: 200,
        body: { queue: q, paused: false },
      });
      expect(await queue.isPaused()).toBe(false);
      expect((await call("GET", `/${q}/stats`)).status).toBe(404);
      expect(Object.keys((await call("GET", "/queues")).body)).not.toContain(q);
      expect((await call("GET", "/openapi.json")).body.paths).toMatchObject({
        "/{queue}/pause": { post: { summary: expect.stringContaining("Pause the queue") } },
        "/{queue}/resume": { post: { summary: expect.stringContaining("Resume a paused queue") } },
      });
    });

    it("GET /{queue}/events streams the counts, then each task that finishes, until the client leaves", async () => {
      const { queue, q } = api();
      const handler = createHttpHandler(queue.backend);
      await queue.add(add(0, 0));
      const leave = new AbortController();
      const response = await handler(
        new Request(`${ORIGIN}/${q}/events`, { signal: leave.signal }),
      );
      expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
          text += decoder.decode(value);
        }
      };
      await until(/event: stats\ndata: \{[^\n]*"pending":1[^\n]*"paused":false/);
      const t = add(2, 2);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      await until(
        new RegExp(
          `event: finished\ndata: {"id":"${t.id}","name":"http-api.add","status":"completed"`,
        ),
      );
      // The client leaves: the stream ends (a stream that went on would time the test out).
      leave.abort();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
    });

    it("GET /{queue}/events streams the lifecycle events under their ids; Last-Event-ID resumes after one", async () => {
      const { queue, q } = api();
      const handler = createHttpHandler(queue.backend);
      const open = async (headers: Record<string, string>, query = "") => {
        const leave = new AbortController();
        const response = await handler(
          new Request(`${ORIGIN}/${q}/events${query}`, { signal: leave.signal, headers }),
        );
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let text = "";
        return {
          async until(pattern: RegExp): Promise<string> {
            while (!pattern.test(text)) {
              const { value, done } = await reader.read();
              if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
              text += decoder.decode(value);
            }
            return text;
          },
          async close() {
            leave.abort();
            for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
          },
        };
      };
      const first = await open({});
      await first.until(/event: stats\n/);
      // The log is read from the moment the stream opened: let its first read start.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const t = add(3, 4);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const text = await first.until(/event: task\ndata: [^\n]*"type":"completed"/);
      await first.close();
      const tasks = [...text.matchAll(/id: ([^\n]+)\nevent: task\ndata: ([^\n]+)/g)].map((m) => ({
        id: m[1]!,
        event: JSON.parse(m[2]!) as { id: string; type: string; taskId: string },
      }));
      expect(tasks.map((x) => `${x.event.type}:${x.event.taskId}`)).toEqual([
        `added:${t.id}`,
        `started:${t.id}`,
        `completed:${t.id}`,
      ]);
      expect(tasks.every((x) => x.id === x.event.id)).toBe(true);
      // A client that reconnects after the added event hears the rest again, from the log.
      const again = await open({ "last-event-id": tasks[0]!.id });
      const resumed = await again.until(/"type":"completed"/);
      await again.close();
      expect([...resumed.matchAll(/"type":"(\w+)"/g)].map((m) => m[1])).toEqual([
        "started",
        "completed",
      ]);
      // A browser's EventSource opened with ?after= keeps that URL when it reconnects, and sends
      // Last-Event-ID: the header, the later position, is the one resumed after.
      const reconnected = await open(
        { "last-event-id": tasks[1]!.id },
        `?after=${encodeURIComponent(tasks[0]!.id)}`,
      );
      const rest = await reconnected.until(/"type":"completed"/);
      await reconnected.close();
      expect([...rest.matchAll(/"type":"(\w+)"/g)].map((m) => m[1])).toEqual(["completed"]);
      // ?type= sends only events of those types, from the same log.
      const only = await open({}, "?after=start&type=completed,failed");
      const filtered = await only.until(/"type":"completed"/);
      await only.close();
      expect(
        [...filtered.matchAll(/id: ([^\n]+)\nevent: task\ndata: [^\n]*"type":"(\w+)"/g)].map(
          (m) => [m[1], m[2]],
        ),
      ).toEqual([[tasks[2]!.id, "completed"]]);
      // ?type=failed: neither the task events nor the `finished` event of a task that completed.
      const failures = await open({}, "?type=failed");
      await failures.until(/event: stats\n/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const done = add(5, 6);
      const down = flaky(randomUUID());
      await queue.add([done, down]);
      await h.worker(queue).work({ oneshot: true });
      // Both the log's failed event and the finished event of the failure come; in either order.
      await failures.until(new RegExp(`event: finished\ndata: [^\n]*"id":"${down.id}"`));
      const seen = await failures.until(
        new RegExp(
          `event: task\ndata: [^\n]*"type":"failed"[^\n]*"taskId":"${down.id}"|event: task\ndata: [^\n]*"taskId":"${down.id}"[^\n]*"type":"failed"`,
        ),
      );
      await failures.close();
      expect(seen).not.toContain(done.id);
    });

    it("GET /openapi.json describes every route from the same table, its paths relative to where it is served", async () => {
      const queue = h.queue();
      const handler = createHttpHandler(queue.backend, { basePath: "/sheppy" });
      const doc = (await (await handler(new Request(`${ORIGIN}/sheppy/openapi.json`))).json()) as {
        openapi: string;
        servers: { url: string }[];
        paths: Record<
          string,
          Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
        >;
      };
      expect(doc.openapi).toBe("3.1.0");
      // Resolved against the document's own address: the base path, or a proxy's prefix.
      expect(doc.servers.map((s) => s.url)).toEqual(["."]);
      expect(new URL(doc.servers[0]!.url, `${ORIGIN}/admin/openapi.json`).pathname).toBe("/admin/");
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          "/queues",
          "/{queue}/tasks",
          "/{queue}/tasks/{id}/retry",
          "/{queue}/tasks/{id}/reschedule",
          "/{queue}/crons/{id}",
          "/{queue}/workflows/{id}/cancel",
          "/{queue}/workflows/{id}/retry",
        ]),
      );
      expect(Object.keys(doc.paths).some((path) => path.startsWith("/sheppy"))).toBe(false);
      expect(
        doc.paths["/{queue}/tasks"]?.post?.requestBody?.content["application/json"]?.schema,
      ).toMatchObject({
        type: "object",
        required: ["name"],
      });
      expect((await handler(new Request(`${ORIGIN}/elsewhere/queues`))).status).toBe(404);
      // References resolve from the document's root: no JSON Schema's own $defs are left inside.
      expect(JSON.stringify(doc)).not.toContain("#/$defs");
      const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map(
        (m) => m[1]!,
      );
      const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } })
        .components.schemas;
      for (const ref of refs) expect(schemas[ref], ref).toBeDefined();
    });
  });
}
