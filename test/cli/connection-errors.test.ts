/**
 * The built CLI against Redis servers it cannot use: each failure is exactly
 * one `error: …` line naming the cause, a non-zero exit, and no password in
 * anything it prints — not even the stack trace of `--log-level debug`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, expectOneLineError, runCli, TASKS } from "../support/cli.js";
import {
  type ConfiguredRedis,
  privateRedisSupport,
  startRedis,
  startTlsRedis,
} from "../support/configured-redis.js";
import { freePort } from "../support/private-redis.js";

const support = await privateRedisSupport();
const PASSWORD = "cli-right-pw-2e8b";
const SECRET = "cli-secret-pw-a47c";

/** Runs `sheppy <args> -u <url>` and times it. */
async function timed(url: string, args: readonly string[]): Promise<CliResult & { ms: number }> {
  const started = performance.now();
  const result = await runCli([...args, "-u", url]);
  return { ...result, ms: performance.now() - started };
}

function printed(result: CliResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

describe.concurrent("sheppy: a closed port never shows the password", () => {
  const commands: readonly (readonly string[])[] = [
    ["queue", "list"],
    ["task", "add", `${TASKS}:add`, "--args", "[1,2]"],
    ["work", "--tasks", TASKS, "--log-format", "json"],
  ];

  it.each(commands)(
    "sheppy %s … with the password in a query parameter or the user-info",
    async (...command) => {
      const port = await freePort();
      for (const [url, masked] of [
        [`redis://127.0.0.1:${port}?password=${SECRET}`, `redis://127.0.0.1:${port}?password=****`],
        [`redis://admin:${SECRET}@127.0.0.1:${port}`, `redis://admin:****@127.0.0.1:${port}`],
      ] as const) {
        const result = await runCli([...command, "-u", url]);
        expect(expectOneLineError(result, 1)).toBe(
          `error: cannot connect to Redis at ${masked}: connection refused (connect ECONNREFUSED 127.0.0.1:${port})`,
        );
        expect(printed(result)).not.toContain(SECRET);
        if (command[0] === "work") {
          // Among its JSON log lines, the error that ended the worker is a fatal record too.
          const last = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as {
            level: number;
            msg: string;
          };
          expect([last.level, last.msg]).toEqual([60, expectOneLineError(result, 1)]);
        }
        const debug = await runCli([...command, "-u", url, "--log-level", "debug"]);
        expect(debug.code).toBe(1);
        expect(debug.stderr).toContain("BackendUnavailableError: cannot connect to Redis");
        expect(printed(debug)).not.toContain(SECRET);
      }
    },
  );
});

describe("sheppy: a malformed database part", () => {
  it("is a usage error naming the URL, before any connection", async () => {
    const result = await runCli(["queue", "list", "-u", `redis://:${SECRET}@127.0.0.1:1/notadb`]);
    expect(expectOneLineError(result, 2)).toBe(
      "error: Invalid Redis URL 'redis://:****@127.0.0.1:1/notadb': the database must be a number, as in redis://host:6379/0",
    );
  });
});

describe.skipIf(!support.plain)("sheppy: plaintext servers it cannot use", () => {
  let plain: ConfiguredRedis;
  let locked: ConfiguredRedis;

  beforeAll(async () => {
    [plain, locked] = await Promise.all([startRedis(), startRedis(["--requirepass", PASSWORD])]);
  });

  afterAll(async () => {
    await Promise.all([plain?.destroy(), locked?.destroy()]);
  });

  it("a wrong password, in the user-info and in a query parameter", async () => {
    const port = locked.port;
    const userInfo = await timed(`redis://:${SECRET}@127.0.0.1:${port}`, ["queue", "list"]);
    expect(expectOneLineError(userInfo, 1)).toBe(
      `error: cannot connect to Redis at redis://:****@127.0.0.1:${port}: authentication failed (WRONGPASS invalid username-password pair or user is disabled)`,
    );
    expect(printed(userInfo)).not.toContain(SECRET);
    const query = await timed(`redis://127.0.0.1:${port}?password=${SECRET}`, ["queue", "list"]);
    expect(expectOneLineError(query, 1)).toContain(
      `redis://127.0.0.1:${port}?password=****: authentication failed (WRONGPASS`,
    );
    expect(printed(query)).not.toContain(SECRET);
  });

  it("a missing password", async () => {
    const result = await timed(`redis://127.0.0.1:${locked.port}`, ["queue", "list"]);
    expect(expectOneLineError(result, 1)).toBe(
      `error: cannot connect to Redis at redis://127.0.0.1:${locked.port}: the server requires a password and the URL gives none (NOAUTH Authentication required)`,
    );
  });

  it("rediss:// against a plaintext server, without waiting for the 10 s connect timeout", async () => {
    const result = await timed(`rediss://127.0.0.1:${plain.port}`, ["queue", "list"]);
    expect(expectOneLineError(result, 1)).toBe(
      `error: cannot connect to Redis at rediss://127.0.0.1:${plain.port}: TLS handshake failed: the server does not speak TLS (use redis:// instead of rediss://)`,
    );
    // Process start included (seconds on a busy machine); the handshake alone used to take 10 s.
    expect(result.ms).toBeLessThan(9000);
  });

  it("a database the server does not have", async () => {
    const result = await timed(`redis://127.0.0.1:${plain.port}/99`, ["queue", "list"]);
    expect(expectOneLineError(result, 1)).toBe(
      `error: cannot connect to Redis at redis://127.0.0.1:${plain.port}/99: the server has no database 99 (ERR DB index is out of range)`,
    );
  });
});

describe.skipIf(!support.tls)("sheppy: a TLS server with a self-signed certificate", () => {
  let tls: ConfiguredRedis;

  beforeAll(async () => {
    tls = await startTlsRedis();
  });

  afterAll(async () => {
    await tls?.destroy();
  });

  it("an untrusted certificate", async () => {
    const result = await timed(`rediss://127.0.0.1:${tls.port}`, ["queue", "list"]);
    expect(expectOneLineError(result, 1)).toBe(
      `error: cannot connect to Redis at rediss://127.0.0.1:${tls.port}: TLS handshake failed: self-signed certificate (set redisOptions.tls, or NODE_EXTRA_CA_CERTS, to trust it)`,
    );
  });

  it("redis:// against it", async () => {
    const result = await timed(`redis://127.0.0.1:${tls.port}`, ["queue", "list"]);
    expect(expectOneLineError(result, 1)).toMatch(/; if it requires TLS, use rediss:\/\/$/);
  });
});
