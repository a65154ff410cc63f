/**
 * Private redis-servers with settings the shared server must never get — a
 * password, or TLS with a throwaway self-signed certificate — for tests of
 * connection errors. Each runs from a temporary directory that `destroy()`
 * removes; nothing is persisted.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./private-redis.js";
import { missingService } from "./services.js";

const run = promisify(execFile);

/** A running private server. */
export interface ConfiguredRedis {
  readonly port: number;
  /** The PEM certificate a TLS server presents (trust it with `redisOptions.tls.ca`). */
  readonly certificate?: string;
  destroy(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function launch(
  dir: string,
  port: number,
  settings: readonly string[],
  certificate?: string,
): Promise<ConfiguredRedis> {
  const child: ChildProcess = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...settings],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const destroy = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await destroy();
      throw new Error(`redis-server ${settings.join(" ")} did not start: ${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { port, destroy, ...(certificate === undefined ? {} : { certificate }) };
}

/** A plaintext server; `settings` are extra redis-server arguments (e.g. `--requirepass`). */
export async function startRedis(settings: readonly string[] = []): Promise<ConfiguredRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sheppy-redis-conf-"));
  return launch(dir, port, ["--port", String(port), ...settings]);
}

/** A TLS-only server (no plaintext port) with a fresh self-signed certificate for 127.0.0.1. */
export async function startTlsRedis(): Promise<ConfiguredRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sheppy-redis-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  try {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // The client presents no certificate of its own: only the server's is under test.
  return launch(
    dir,
    port,
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      cert,
      "--tls-key-file",
      key,
      "--tls-ca-cert-file",
      cert,
      "--tls-auth-clients",
      "no",
    ],
    readFileSync(cert, "utf8"),
  );
}

/**
 * Whether private servers can run here: `redis-server` is installed, and it
 * serves TLS (it needs a build with TLS, and openssl for the certificate).
 * What is missing fails in CI and is one skip line elsewhere.
 */
export async function privateRedisSupport(): Promise<{ plain: boolean; tls: boolean }> {
  try {
    await run("redis-server", ["--version"]);
  } catch {
    const plain = missingService("private Redis", "redis-server is not installed");
    return { plain, tls: false };
  }
  try {
    await (await startTlsRedis()).destroy();
    return { plain: true, tls: true };
  } catch (error) {
    const why = `redis-server cannot serve TLS here (${(error as Error).message.split("\n")[0]})`;
    return { plain: true, tls: missingService("Redis TLS", why) };
  }
}
