/**
 * No answer of the HTTP API carries the backend's password: every route is
 * called against a Redis that needs one — and against a wrong one, whose
 * errors name the server — and every body and header is searched for it
 * (and, there, for the server's address).
 */
import { randomUUID } from "node:crypto";
import { task } from "sheppy";
import { createHttpHandler } from "sheppy/http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConfiguredRedis,
  privateRedisSupport,
  startRedis,
} from "../../support/configured-redis.js";

const support = await privateRedisSupport();
const PASSWORD = "leak-canary-4d1f";
task({ name: "http-secrets.add" }, (a: number, b: number) => a + b);

// Skipped only without redis-server (it needs a private server with a password); under CI=true that fails instead.
describe.skipIf(!support.plain)("http api: no secret in any answer", () => {
  let server: ConfiguredRedis;

  beforeAll(async () => {
    server = await startRedis(["--requirepass", PASSWORD]);
  });

  afterAll(async () => {
    await server?.destroy();
  });

  /** Calls every route of the API once (and some twice, to reach their refusals); returns every answer's text. */
  async function everyAnswer(url: string): Promise<string[]> {
    const handler = createHttpHandler(url, { exposeErrors: false });
    const texts: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await handler(
        new Request(`http://localhost${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
        }),
      );
      const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
      const text = `${response.status}\n${headers}\n${await response.text()}`;
      texts.push(text);
      return text;
    };
    const q = "secrets";
    const added = await call("POST", `/${q}/tasks`, { name: "http-secrets.add", args: [1, 2] });
    const id = /"id":"([^"]+)"/.exec(added)?.[1] ?? randomUUID();
    await call("POST", `/${q}/tasks/schedule`, { name: "http-secrets.add", args: [1, 2], at: 60 });
    await call("POST", `/${q}/crons`, {
      name: "http-secrets.add",
      args: [1, 1],
      expression: "@daily",
    });
    for (const path of [
      "/queues",
      "/openapi.json",
      "/",
      `/${q}/size`,
      `/${q}/stats`,
      `/${q}/tasks`,
      `/${q}/tasks/pending`,
      `/${q}/tasks/scheduled`,
      `/${q}/tasks/${id}`,
      `/${q}/crons`,
      `/${q}/workflows`,
      `/${q}/workflows/${randomUUID()}`,
    ]) {
      await call("GET", path);
    }
    // The event stream: its first event, then the client leaves.
    const leave = new AbortController();
    const events = await handler(
      new Request(`http://localhost/${q}/events`, { signal: leave.signal }),
    );
    const first = events.body ? await events.body.getReader().read() : { value: undefined };
    texts.push(`${events.status}\n${new TextDecoder().decode(first.value)}`);
    leave.abort();
    await call("POST", `/${q}/tasks/${id}/retry`, { force: true });
    await call("POST", `/${q}/tasks/${id}/cancel`, {});
    await call("DELETE", `/${q}/tasks/${id}`, {});
    await call("DELETE", `/${q}/crons/${randomUUID()}`, {});
    await call("POST", `/${q}/workflows/${randomUUID()}/cancel`, {});
    await call("POST", `/${q}/tasks/clear`, {});
    return texts;
  }

  it("with the right password, in the URL's user part and as a parameter", async () => {
    for (const url of [
      `redis://:${PASSWORD}@127.0.0.1:${server.port}?prefix=s1`,
      `redis://127.0.0.1:${server.port}?password=${PASSWORD}&prefix=s2`,
    ]) {
      const texts = await everyAnswer(url);
      expect(texts.some((text) => text.startsWith("201"))).toBe(true);
      for (const text of texts) expect(text).not.toContain(PASSWORD);
    }
  });

  it("with a wrong password, whose errors are about the server", async () => {
    const wrong = `${PASSWORD}-wrong`;
    const texts = await everyAnswer(`redis://:${wrong}@127.0.0.1:${server.port}?prefix=s3`);
    // Everything but the OpenAPI document and the dashboard's page, which need no backend, fails — and says why.
    const failed = texts.filter(
      (text) => !text.includes('"openapi"') && !text.includes('name="sheppy-config"'),
    );
    expect(failed.every((text) => !text.startsWith("2"))).toBe(true);
    expect(failed.some((text) => text.startsWith("503"))).toBe(true);
    for (const text of texts) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(wrong);
      // Nor where the server is: that is for the operator's log.
      expect(text).not.toContain(`:${server.port}`);
    }
  });
});
