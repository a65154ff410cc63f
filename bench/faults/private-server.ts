/**
 * A private redis-server for one fault scenario, on a free port and a
 * temporary directory: the scenario may stop, pause, kill the connections
 * of, flush the scripts of or fill this server without touching the shared
 * one. Persistence is chosen per scenario, because what a restart keeps is
 * what the restart scenarios measure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { track, trackDir } from "./cleanup.js";

export interface ServerOptions {
  /** `aof`: append-only file, fsync on every write; `none`: a restart starts empty. */
  persistence?: "aof" | "none";
  /** More `redis-server` arguments, used at every start. */
  extraArgs?: readonly string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class PrivateServer {
  #child: ChildProcess | undefined;
  readonly #admins: Redis[] = [];

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: readonly string[],
  ) {}

  static async start(options: ServerOptions = {}): Promise<PrivateServer> {
    const persistence =
      options.persistence === "aof"
        ? ["--appendonly", "yes", "--appendfsync", "always"]
        : ["--appendonly", "no"];
    const dir = trackDir(mkdtempSync(join(tmpdir(), "sheppy-faults-")));
    const server = new PrivateServer(await freePort(), dir, [
      ...persistence,
      ...(options.extraArgs ?? []),
    ]);
    await server.startAgain();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the server (again, after `stop`) and resolves once it answers PING. */
  async startAgain(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        this.dir,
        ...this.args,
      ],
      { stdio: "ignore" },
    );
    this.#child = track(child);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** A plain client for the scenario's own commands; it reconnects by itself and is closed by `destroy`. */
  admin(): Redis {
    const client = new Redis(this.url, { maxRetriesPerRequest: null });
    client.on("error", () => undefined);
    this.#admins.push(client);
    return client;
  }

  /** Stops the server gracefully (with AOF, it has fsynced every write already). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }

  async destroy(): Promise<void> {
    for (const client of this.#admins.splice(0)) client.disconnect();
    this.#child?.kill("SIGCONT");
    await this.stop();
  }
}
