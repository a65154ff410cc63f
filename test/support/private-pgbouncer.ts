/**
 * A private PgBouncer in transaction mode in front of a PostgreSQL server,
 * on a free port, for tests of the backend behind a pooler that shares
 * server connections between clients. Debian's `pgbouncer` package (1.18 on
 * bookworm: no prepared statements across transactions). It refuses to run
 * as root, so as root it switches to the `postgres` user (`-u`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./private-redis.js";
import { until } from "./until.js";

const BINARY = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((path) => existsSync(path));

/** The PgBouncer binary, or `null` when none is installed. */
export function pgbouncerBinary(): string | null {
  return BINARY ?? null;
}

export class PrivatePgBouncer {
  private constructor(
    readonly port: number,
    private readonly process: ChildProcess,
    private readonly dir: string,
  ) {}

  /**
   * Starts one forwarding every database to `serverUrl`'s host and port,
   * `poolSize` server connections per database and user; after a failed
   * login to the server it tries again only after `serverLoginRetry` seconds
   * (PgBouncer's default is 15), answering clients with an error meanwhile.
   */
  static async start(
    serverUrl: string,
    poolSize = 4,
    serverLoginRetry = 15,
  ): Promise<PrivatePgBouncer> {
    const binary = pgbouncerBinary();
    if (!binary) throw new Error("pgbouncer is not installed (apt-get install pgbouncer)");
    const server = new URL(serverUrl);
    const dir = mkdtempSync(join(tmpdir(), "sheppy-pgbouncer-"));
    const port = await freePort();
    const users = join(dir, "users.txt");
    writeFileSync(users, `"${decodeURIComponent(server.username || "postgres")}" ""\n`);
    writeFileSync(
      join(dir, "pgbouncer.ini"),
      [
        "[databases]",
        `* = host=${server.hostname} port=${server.port || 5432}`,
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        `listen_port = ${port}`,
        "unix_socket_dir =",
        "auth_type = trust",
        `auth_file = ${users}`,
        "pool_mode = transaction",
        `default_pool_size = ${poolSize}`,
        `server_login_retry = ${serverLoginRetry}`,
        "max_client_conn = 200",
        `logfile = ${join(dir, "pgbouncer.log")}`,
        // node-postgres sends none of these, but a client's `options` must not end the connection.
        "ignore_startup_parameters = extra_float_digits,options",
      ].join("\n"),
    );
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(dir, idOf("postgres", "-u"), idOf("postgres", "-g"));
    const child = spawn(
      binary,
      [...(asRoot ? ["-u", "postgres"] : []), join(dir, "pgbouncer.ini")],
      { stdio: "ignore" },
    );
    const bouncer = new PrivatePgBouncer(port, child, dir);
    await until(() => bouncer.#answers(), { timeoutMs: 15_000, what: "PgBouncer to answer" });
    return bouncer;
  }

  /** A URL of `database` through the pooler, as `serverUrl`'s user. */
  url(database = "test", user = "postgres"): string {
    return `postgres://${user}@127.0.0.1:${this.port}/${database}`;
  }

  async #answers(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url("postgres") });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null) {
      const exited = new Promise((resolve) => this.process.once("exit", resolve));
      this.process.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The user or group id (`flag` `-u` or `-g`) of `user`. */
function idOf(user: string, flag: "-u" | "-g"): number {
  return Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
}
