/**
 * A private PostgreSQL server for fault tests that stop, kill or restart the
 * server; the shared one on 5432 is never touched. `initdb` makes a cluster
 * in a temporary directory (as the `postgres` user when the tests run as
 * root, since PostgreSQL refuses to run as root), and `pg_ctl` starts and
 * stops it on a free port, with its socket in that directory.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./private-redis.js";

/** The newest PostgreSQL server binaries installed, or `null`. */
export function postgresBinaries(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, "bin");
    if (existsSync(join(bin, "initdb"))) return bin;
  }
  return null;
}

const asRoot = process.getuid?.() === 0;

/** Runs a server binary, as `postgres` when this process is root. */
function runServerTool(bin: string, tool: string, args: readonly string[]): string {
  const command = asRoot ? "runuser" : join(bin, tool);
  const argv = asRoot ? ["-u", "postgres", "--", join(bin, tool), ...args] : [...args];
  return execFileSync(command, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly bin: string,
    private readonly dir: string,
  ) {}

  /** Creates a cluster and starts it; throws when no PostgreSQL binaries are installed. */
  static async start(): Promise<PrivatePostgres> {
    const bin = postgresBinaries();
    if (!bin) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql");
    const dir = mkdtempSync(join(tmpdir(), "sheppy-pg-"));
    if (asRoot) {
      const ids = execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim();
      const group = execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim();
      chownSync(dir, Number(ids), Number(group));
    }
    runServerTool(bin, "initdb", [
      "-D",
      join(dir, "data"),
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
    ]);
    const server = new PrivatePostgres(await freePort(), bin, dir);
    server.begin();
    return server;
  }

  /** A URL of the database `postgres` on this server. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server and waits until it accepts connections. */
  begin(): void {
    runServerTool(this.bin, "pg_ctl", [
      "-D",
      join(this.dir, "data"),
      "-l",
      join(this.dir, "server.log"),
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`,
      "-w",
      "-t",
      "30",
      "start",
    ]);
  }

  /** Stops the server: `fast` ends sessions and shuts down cleanly; `immediate` is a crash (recovery on the next start). */
  stop(mode: "fast" | "immediate" = "fast"): void {
    spawnSync(asRoot ? "runuser" : join(this.bin, "pg_ctl"), [
      ...(asRoot ? ["-u", "postgres", "--", join(this.bin, "pg_ctl")] : []),
      "-D",
      join(this.dir, "data"),
      "-m",
      mode,
      "-w",
      "stop",
    ]);
  }

  /** Stops (as a crash when asked) and starts again on the same port and data. */
  restart(mode: "fast" | "immediate" = "fast"): void {
    this.stop(mode);
    this.begin();
  }

  destroy(): void {
    this.stop("immediate");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
