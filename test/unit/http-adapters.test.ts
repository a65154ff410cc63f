/** The HTTP API mounted in Express and in Fastify under a prefix, as their users would mount it. */
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { task } from "sheppy";
import { createHttpHandler, fastifyPlugin, toNodeHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { rawAnswer } from "../support/raw-http.js";

task({ name: "http-adapters.add" }, (a: number, b: number) => a + b);

/** Adds a task through the API at `base` and reads it back; returns the stored record. */
async function addAndRead(base: string): Promise<unknown> {
  const added = await fetch(`${base}/emails/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "http-adapters.add", args: [1, 2] }),
  });
  expect(added.status).toBe(201);
  const { task: stored } = (await added.json()) as { task: { id: string } };
  return (await fetch(`${base}/emails/tasks/${stored.id}`)).json();
}

describe("adapters", () => {
  it("Express: app.use(prefix, toNodeHandler(handler)) with the same basePath, behind express.json()", async () => {
    const app = express();
    app.use(
      "/sheppy",
      toNodeHandler(
        createHttpHandler("memory://?instantProcessing=false", { basePath: "/sheppy" }),
      ),
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sheppy`;
      const stored = (await addAndRead(base)) as { id: string };
      expect(stored).toMatchObject({ name: "http-adapters.add", args: [1, 2] });
      // fetch's DELETE sends no body and no content type: that is no form, and it is served.
      await fetch(`${base}/emails/tasks/${stored.id}/cancel`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const deleted = await fetch(`${base}/emails/tasks/${stored.id}`, { method: "DELETE" });
      expect([deleted.status, await deleted.json()]).toEqual([200, { deleted: true }]);
      const events = await fetch(`${base}/emails/events`);
      expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const reader = events.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: stats\n/);
      await reader.cancel();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("Express behind express.json(): a body its parser read is handed on; one nested past what can be written back is a 400 saying so", async () => {
    const app = express();
    app.use(express.json({ limit: "10mb" }));
    app.use(
      "/sheppy",
      toNodeHandler(
        createHttpHandler("memory://?instantProcessing=false", { basePath: "/sheppy" }),
      ),
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sheppy`;
      expect(await addAndRead(base)).toMatchObject({ name: "http-adapters.add", args: [1, 2] });
      const depth = 20_000;
      const deep = `{"name":"http-adapters.add","args":[${"[".repeat(depth)}${"]".repeat(depth)}]}`;
      const answer = await fetch(`${base}/emails/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: deep,
      });
      expect(answer.status).toBe(400);
      expect(await answer.text()).toBe(
        "bad request: the body, as the app's body parser read it, cannot be written back as JSON (nested too deeply?)\n",
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("Fastify: app.register(fastifyPlugin(handler), { prefix })", async () => {
    const app = Fastify();
    await app.register(
      fastifyPlugin(
        createHttpHandler("memory://?instantProcessing=false", { basePath: "/sheppy" }),
      ),
      {
        prefix: "/sheppy",
      },
    );
    await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/sheppy`;
      expect(await addAndRead(base)).toMatchObject({ name: "http-adapters.add", args: [1, 2] });
      const bad = await fetch(`${base}/emails/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{oops",
      });
      expect(bad.status).toBe(400);
      // The prefix alone reaches the handler too, as under Express: the dashboard's page.
      for (const path of [base, `${base}/`]) {
        const page = await fetch(path);
        expect(page.status, path).toBe(200);
        expect(page.headers.get("content-type"), path).toMatch(/^text\/html/);
      }
    } finally {
      await app.close();
    }
  });

  it("a target with a dot segment or a backslash is refused, so a router's guard on the raw path holds", async () => {
    const app = express();
    // The application's own rule: only its admins may touch the payments queue.
    app.use("/sheppy/payments", (_request, response) => {
      response.status(403).json({ error: "admins only" });
    });
    const handler = createHttpHandler("memory://?instantProcessing=false", { basePath: "/sheppy" });
    app.use("/sheppy", toNodeHandler(handler));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const post = (target: string) =>
        rawAnswer(
          port,
          `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
        );
      expect((await post("/sheppy/payments/pause")).status).toBe(403);
      for (const target of [
        "/sheppy/x/../payments/pause",
        "/sheppy/x/%2e%2E/payments/pause",
        "/sheppy/x/.%2e/payments/pause",
        "/sheppy/./payments/pause",
        "/sheppy/x/..\\payments/pause",
      ]) {
        const answer = await post(target);
        expect(answer.status, target).toBe(400);
        expect(JSON.parse(answer.body).error, target).toMatch(
          /^a (.+ segment|backslash) in the path is refused/,
        );
      }
      const stats = await fetch(`http://127.0.0.1:${port}/sheppy/payments/stats`);
      expect(stats.status).toBe(403);
      // Nothing was paused behind the guard's back.
      const queues = await (await fetch(`http://127.0.0.1:${port}/sheppy/queues`)).json();
      expect(JSON.stringify(queues)).not.toContain("payments");
      // A dot inside a segment is a name like any other.
      expect((await fetch(`http://127.0.0.1:${port}/sheppy/a.b/stats`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
