/** The HTTP API mounted in Express and in Fastify under a prefix, as their users would mount it. */
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify from "fastify";
import { task } from "sheppy";
import { createHttpHandler, fastifyPlugin, toNodeHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";

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
      expect(await addAndRead(base)).toMatchObject({ name: "http-adapters.add", args: [1, 2] });
      const events = await fetch(`${base}/emails/events`);
      expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const reader = events.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^event: stats\n/);
      await reader.cancel();
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
});
