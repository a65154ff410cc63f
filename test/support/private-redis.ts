/**
 * A private redis-server for fault tests that stop, pause or restart the
 * server; the shared one on 6379 is never touched. Data is kept in an
 * append-only file so a restart behaves like a production restart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One command to the server on `port` (a fresh connection), or `null` when it does not answer. */
export async function askRedis(port: number, command: readonly string[]): Promise<unknown> {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await client.call(command[0]!, ...command.slice(1));
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

/** Resolves once the server on `port` answers PING; throws after `ms`. */
export async function untilRedisAnswers(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await askRedis(port, ["PING"])) !== "PONG") {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class PrivateRedis {
  #process: ChildProcess | undefined;
  readonly #dir = mkdtempSync(join(tmpdir(), "sheppy-redis-"));

  private constructor(
    readonly port: number,
    /** Extra `redis-server` arguments (e.g. `--maxmemory 4mb`), used at every start. */
    private readonly extraArgs: readonly string[] = [],
  ) {}

  static async start(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), extraArgs);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#process = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        this.#dir,
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    await untilRedisAnswers(this.port);
  }

  /** Stops the server (it writes its append-only file first). */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }

  /** SIGKILLs the server and waits until it is gone (no shutdown work, no waiting for replicas). */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  pause(): void {
    this.#process?.kill("SIGSTOP");
  }

  resume(): void {
    this.#process?.kill("SIGCONT");
  }

  async destroy(): Promise<void> {
    this.resume();
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
