/** The HTTP API served by Node's http server through toNodeHandler (as Express mounts it). */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { task } from "sheppy";
import { createHttpHandler, toNodeHandler } from "sheppy/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

task({ name: "http-node.add" }, (a: number, b: number) => a + b);

describe("toNodeHandler", () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const handler = createHttpHandler("memory://?instantProcessing=false", { basePath: "/sheppy" });
    server = createServer(toNodeHandler(handler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sheppy`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("serves reads and changes, with the status, headers and JSON body of the handler", async () => {
    const added = await fetch(`${base}/emails/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "http-node.add", args: [1, 2] }),
    });
    expect(added.status).toBe(201);
    expect(added.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const { task: stored } = (await added.json()) as { task: { id: string } };
    const read = await fetch(`${base}/emails/tasks/${stored.id}`);
    expect(await read.json()).toMatchObject({ id: stored.id, args: [1, 2], status: "pending" });
    expect(await (await fetch(`${base}/queues`)).json()).toEqual({ emails: 1 });
    const wrong = await fetch(`${base}/emails/size`, { method: "DELETE" });
    expect([wrong.status, wrong.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });
});
