/**
 * Which queues the HTTP API serves: with `queues`, `GET /queues` lists those
 * (an empty one at 0) and any other queue name answers 404 — an add to a
 * mistyped queue included, which would otherwise leave a task no worker
 * serves; `/metrics` of another queue too. A bad list is refused when the
 * handler is made.
 */
import { InvalidOptionError, Queue, task } from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

const echo = task({ name: "http-served-queues.echo" }, (text: string) => text);

describe("the queues option", () => {
  it("lists the queues it serves and answers 404 for any other, adds included", async () => {
    const queue = new Queue("memory://?instantProcessing=false", { name: "orders" });
    const other = new Queue(queue.backend, { name: "internal" });
    await other.add(echo("not for this API"));
    const handler = createHttpHandler(queue.backend, { queues: ["orders", "emails"] });
    const call = async (method: string, path: string, body?: unknown) => {
      const answer = await handler(
        new Request(`http://localhost${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
        }),
      );
      const text = await answer.text();
      return { status: answer.status, text, body: text.startsWith("{") ? JSON.parse(text) : null };
    };

    expect((await call("POST", "/orders/tasks", { name: echo.taskName, args: ["a"] })).status).toBe(
      201,
    );
    expect((await call("GET", "/queues")).body).toEqual({ emails: 0, orders: 1 });
    const typo = await call("POST", "/order/tasks", { name: echo.taskName, args: ["b"] });
    expect(typo.status).toBe(404);
    expect(typo.body.error).toBe(
      "this API serves no queue named 'order' (it serves 'orders', 'emails')",
    );
    expect((await call("GET", "/internal/tasks")).status).toBe(404);
    expect((await call("GET", "/internal/stats")).status).toBe(404);
    expect((await call("GET", "/metrics?queue=internal")).status).toBe(404);
    const metrics = await call("GET", "/metrics");
    expect(metrics.text).toContain('queue="orders"');
    expect(metrics.text).not.toContain('queue="internal"');
    expect(await other.size()).toBe(1);
    expect((await queue.listTasks()).tasks.map((t) => t.args)).toEqual([["a"]]);
    await queue.close();
  });

  it("refuses an empty list, a list that is not one, and a name that is no queue name", () => {
    const backend = new Queue("memory://", { name: "x" }).backend;
    expect(() => createHttpHandler(backend, { queues: [] })).toThrow(
      "createHttpHandler() option queues must be a non-empty list of queue names (got an empty list); leave it out to serve every queue",
    );
    expect(() => createHttpHandler(backend, { queues: "orders" as never })).toThrow(
      InvalidOptionError,
    );
    expect(() => createHttpHandler(backend, { queues: ["a b"] })).toThrow(
      /option queues: "a b" is no queue name/,
    );
  });
});
