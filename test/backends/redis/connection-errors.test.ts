/**
 * A first connection to Redis that cannot work fails at once with one line
 * naming the cause and the masked URL: a wrong or missing password, an
 * untrusted certificate, TLS against a plaintext server and the reverse, a
 * database the server does not have, a closed port. A first connection the
 * server closes without a word is tried again twice (it may have been cut by
 * chance) before it is reported. Only private servers are used: the shared
 * one never gets a password or TLS.
 */
import { type AddressInfo, createConnection, createServer, type Server } from "node:net";
import { inspect } from "node:util";
import { Redis, type RedisOptions } from "ioredis";
import { pino } from "pino";
import { BackendUnavailableError } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConfiguredRedis,
  privateRedisSupport,
  startRedis,
  startTlsRedis,
} from "../../support/configured-redis.js";
import { freePort } from "../../support/private-redis.js";
import { until } from "../../support/until.js";

const support = await privateRedisSupport();
const PASSWORD = "right-pw-7f3a";
/** Well under ioredis's 10 s connect timeout, which is what a hanging handshake used to cost. */
const FAST_MS = 2000;

interface Failure {
  readonly error: Error;
  readonly ms: number;
}

/** Connects a backend that must fail; returns its error and how long the failure took. */
async function failure(url: string, redisOptions?: RedisOptions): Promise<Failure> {
  const backend = new RedisBackend({ url, ...(redisOptions ? { redisOptions } : {}) });
  const started = performance.now();
  try {
    await backend.connect();
  } catch (error) {
    return { error: error as Error, ms: performance.now() - started };
  } finally {
    await backend.disconnect();
  }
  throw new Error(`connecting to ${url} succeeded`);
}

/** Connects a backend that must work (the control for each failure). */
async function pings(url: string, redisOptions?: RedisOptions): Promise<void> {
  const backend = new RedisBackend({ url, ...(redisOptions ? { redisOptions } : {}) });
  try {
    await backend.connect();
    expect(backend.isConnected).toBe(true);
  } finally {
    await backend.disconnect();
  }
}

/** Everything an error can show: message, stack, causes and their own properties. */
function everything(error: Error): string {
  return `${error.message}\n${error.stack}\n${inspect(error, { depth: 10 })}`;
}

describe.skipIf(!support.plain)("redis: first-connect errors on plaintext servers", () => {
  let plain: ConfiguredRedis;
  let locked: ConfiguredRedis;

  beforeAll(async () => {
    [plain, locked] = await Promise.all([startRedis(), startRedis(["--requirepass", PASSWORD])]);
  });

  afterAll(async () => {
    await Promise.all([plain?.destroy(), locked?.destroy()]);
  });

  it("the right password connects", async () => {
    await pings(`redis://:${PASSWORD}@127.0.0.1:${locked.port}`);
    await pings(`redis://127.0.0.1:${locked.port}?password=${PASSWORD}`);
  });

  it("a wrong password in the user-info is 'authentication failed', at once", async () => {
    const { error, ms } = await failure(`redis://:wrong-pw-91c2@127.0.0.1:${locked.port}`);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://:****@127.0.0.1:${locked.port}: authentication failed (WRONGPASS invalid username-password pair or user is disabled)`,
    );
    expect(ms).toBeLessThan(FAST_MS);
    expect(everything(error)).not.toContain("wrong-pw-91c2");
  });

  it("a wrong password in a query parameter is masked too", async () => {
    const { error } = await failure(`redis://127.0.0.1:${locked.port}?password=wrong-pw-5d0e`);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://127.0.0.1:${locked.port}?password=****: authentication failed (WRONGPASS invalid username-password pair or user is disabled)`,
    );
    expect(everything(error)).not.toContain("wrong-pw-5d0e");
  });

  it("a missing password says the server requires one", async () => {
    const { error, ms } = await failure(`redis://127.0.0.1:${locked.port}`);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://127.0.0.1:${locked.port}: the server requires a password and the URL gives none (NOAUTH Authentication required)`,
    );
    expect(ms).toBeLessThan(FAST_MS);
  });

  it("an established connection whose password stops working logs no secret", async () => {
    const server = await startRedis(["--requirepass", PASSWORD]);
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const backend = new RedisBackend({
      url: `redis://127.0.0.1:${server.port}?password=${PASSWORD}`,
      logger,
    });
    const admin = new Redis(server.port, "127.0.0.1", { password: PASSWORD, lazyConnect: true });
    try {
      await backend.connect();
      // Rotate the password and drop the backend's connection: it reconnects with the old one.
      await admin.connect();
      await admin.config("SET", "requirepass", "rotated-pw-0c9d");
      await admin.client("KILL", "TYPE", "normal", "SKIPME", "yes");
      const warning = await until(() => lines.find((line) => line.includes("WRONGPASS")), {
        what: "a WRONGPASS warning",
      });
      expect(JSON.parse(warning)).toMatchObject({
        msg: "lost the connection to Redis; reconnecting",
        url: `redis://127.0.0.1:${server.port}?password=****`,
      });
      expect(lines.join("\n")).not.toContain(PASSWORD);
    } finally {
      admin.disconnect();
      await backend.disconnect();
      await server.destroy();
    }
  });

  it("rediss:// against a plaintext server says the server does not speak TLS, at once", async () => {
    // Redis waits for a line end the TLS hello seldom has, so the handshake hangs: a few tries
    // show the plaintext probe ends it every time, not ioredis's 10 s connect timeout.
    for (let i = 0; i < 3; i++) {
      const { error, ms } = await failure(`rediss://127.0.0.1:${plain.port}`);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toBe(
        `cannot connect to Redis at rediss://127.0.0.1:${plain.port}: TLS handshake failed: the server does not speak TLS (use redis:// instead of rediss://)`,
      );
      expect(ms).toBeLessThan(FAST_MS);
    }
  });

  it("a database the server does not have fails instead of silently using database 0", async () => {
    const { error } = await failure(`redis://127.0.0.1:${plain.port}/99`);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toBe(
      `cannot connect to Redis at redis://127.0.0.1:${plain.port}/99: the server has no database 99 (ERR DB index is out of range)`,
    );
    await pings(`redis://127.0.0.1:${plain.port}/15`);
  });

  it("a closed port is 'connection refused' and shows no secret in either credential form", async () => {
    const port = await freePort();
    for (const [url, masked] of [
      [
        `redis://127.0.0.1:${port}?password=closed-pw-4b1f`,
        `redis://127.0.0.1:${port}?password=****`,
      ],
      [`redis://admin:closed-pw-4b1f@127.0.0.1:${port}`, `redis://admin:****@127.0.0.1:${port}`],
    ] as const) {
      const { error, ms } = await failure(url);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toBe(
        `cannot connect to Redis at ${masked}: connection refused (connect ECONNREFUSED 127.0.0.1:${port})`,
      );
      expect(ms).toBeLessThan(FAST_MS);
      expect(everything(error)).not.toContain("closed-pw-4b1f");
    }
  });
});

describe.skipIf(!support.plain)("redis: a first connection cut by chance", () => {
  let plain: ConfiguredRedis;
  let proxy: Server;
  let dropsLeft = 0;

  beforeAll(async () => {
    plain = await startRedis();
    // Closes the next `dropsLeft` connections without a word (as a restart or CLIENT KILL
    // would), and passes every other one through to the private server.
    proxy = createServer((socket) => {
      if (dropsLeft > 0) {
        dropsLeft--;
        socket.destroy();
        return;
      }
      const upstream = createConnection(plain.port, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await plain?.destroy();
  });

  it("is tried again: two cut connections in a row still connect", async () => {
    dropsLeft = 2;
    await pings(`redis://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    expect(dropsLeft).toBe(0);
  });

  it("a server that always closes the connection is reported at once, with the TLS hint", async () => {
    dropsLeft = Number.POSITIVE_INFINITY;
    const port = (proxy.address() as AddressInfo).port;
    const { error, ms } = await failure(`redis://127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    // Depending on timing, the client sees the close itself or a reset on its first write.
    expect(error.message).toMatch(
      new RegExp(
        `^cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: (the connection closed before Redis answered|the server closed the connection \\(.*\\)); if it requires TLS, use rediss://$`,
      ),
    );
    expect(ms).toBeLessThan(FAST_MS);
    dropsLeft = 0;
  });
});

describe("redis: a server that takes the connection but answers nothing (paused)", () => {
  let silent: Server;
  const sockets = new Set<import("node:net").Socket>();

  beforeAll(async () => {
    // Holds every connection open and never writes a byte, as a SIGSTOPped Redis does.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it("the first connect fails within unavailableAfter, saying the server took the connection but did not answer", async () => {
    const port = (silent.address() as AddressInfo).port;
    const backend = new RedisBackend({ url: `redis://127.0.0.1:${port}`, unavailableAfter: 2 });
    const started = performance.now();
    const error = await backend.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const ms = performance.now() - started;
    await backend.disconnect();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error?.message).toBe(
      `cannot connect to Redis at redis://127.0.0.1:${port}: it took the connection but did not answer within 2 s (the server paused or overloaded)`,
    );
    // Each handshake command waited out its own time-out in turn before: 4 s and more here.
    expect(ms).toBeLessThan(3500);
  }, 30_000);
});

describe("redis: a server that answers the TLS hello in plaintext", () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // What a plaintext Redis says to a request it cannot read, sent back at once.
    server = createServer((socket) => {
      socket.once("data", () => socket.end("-ERR unknown command\r\n"));
      socket.on("error", () => undefined);
    });
    port = await new Promise<number>((resolve) => {
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("reads the same as a silent one: the server does not speak TLS", async () => {
    const { error, ms } = await failure(`rediss://127.0.0.1:${port}`);
    expect(error.message).toBe(
      `cannot connect to Redis at rediss://127.0.0.1:${port}: TLS handshake failed: the server does not speak TLS (use redis:// instead of rediss://)`,
    );
    // Told by the TLS layer itself, not by the probe that ends a silent handshake.
    expect(error.cause).toMatchObject({ code: "ERR_SSL_WRONG_VERSION_NUMBER" });
    expect(ms).toBeLessThan(FAST_MS);
  });
});

describe.skipIf(!support.tls)("redis: first-connect errors on a TLS server", () => {
  let tls: ConfiguredRedis;

  beforeAll(async () => {
    tls = await startTlsRedis();
  });

  afterAll(async () => {
    await tls?.destroy();
  });

  it("its certificate, once trusted, connects", async () => {
    await pings(`rediss://127.0.0.1:${tls.port}`, { tls: { ca: tls.certificate } });
  });

  it("an untrusted self-signed certificate names the cause and how to trust it, at once", async () => {
    const { error, ms } = await failure(`rediss://127.0.0.1:${tls.port}`);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toBe(
      `cannot connect to Redis at rediss://127.0.0.1:${tls.port}: TLS handshake failed: self-signed certificate (set redisOptions.tls, or NODE_EXTRA_CA_CERTS, to trust it)`,
    );
    expect(ms).toBeLessThan(FAST_MS);
  });

  it("redis:// against a TLS-only server suggests rediss://", async () => {
    const { error, ms } = await failure(`redis://127.0.0.1:${tls.port}`);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(
      new RegExp(
        `^cannot connect to Redis at redis://127\\.0\\.0\\.1:${tls.port}: .*; if it requires TLS, use rediss://$`,
      ),
    );
    expect(ms).toBeLessThan(FAST_MS);
  });
});
