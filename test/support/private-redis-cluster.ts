/**
 * A private Redis Cluster (3 masters, 1 replica each by default) of
 * redis-server processes on free ports, for the cluster contract suite and
 * the failover test; the shared server on 6379 is never touched. Persistence
 * is off: a killed node is replaced by its replica, never restarted.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { askRedis, untilRedisAnswers } from "./private-redis.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port free for a cluster node: the node also listens on port + 10000 (its
 * cluster bus), so both must be free and the port low enough for the sum.
 */
export async function freeNodePort(taken = new Set<number>()): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue;
    if ((await listens(port)) && (await listens(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
}

/** Whether `redis-server` and `redis-cli` can be run here. */
export function redisServerInstalled(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    execFileSync("redis-cli", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A cluster-enabled redis-server on `port`, keeping its files in `dir`, persistence off. */
export function spawnClusterNode(port: number, dir: string, nodeTimeoutMs = 2000): ChildProcess {
  return spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(dir, `nodes-${port}.conf`),
      "--cluster-node-timeout",
      String(nodeTimeoutMs),
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: "ignore" },
  );
}

interface Node {
  readonly port: number;
  readonly process: ChildProcess;
}

export interface ClusterShape {
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a master may be silent before its replica takes over (ms). */
  nodeTimeoutMs?: number;
}

export class PrivateRedisCluster {
  readonly #dir = mkdtempSync(join(tmpdir(), "sheppy-cluster-"));
  readonly #nodes: Node[] = [];

  private constructor() {}

  static async start(shape: ClusterShape = {}): Promise<PrivateRedisCluster> {
    const { masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 2000 } = shape;
    const cluster = new PrivateRedisCluster();
    try {
      const taken = new Set<number>();
      const ports: number[] = [];
      for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
        ports.push(await freeNodePort(taken));
      }
      for (const port of ports) cluster.#spawn(port, nodeTimeoutMs);
      for (const port of ports) await cluster.#untilAnswers(port);
      await run("redis-cli", [
        "--cluster",
        "create",
        ...ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        String(replicasPerMaster),
        "--cluster-yes",
      ]);
      await cluster.untilHealthy();
      return cluster;
    } catch (error) {
      cluster.destroy();
      throw error;
    }
  }

  #spawn(port: number, nodeTimeoutMs: number): void {
    this.#nodes.push({ port, process: spawnClusterNode(port, this.#dir, nodeTimeoutMs) });
  }

  async #untilAnswers(port: number): Promise<void> {
    await untilRedisAnswers(port);
  }

  /** One command to one node, or `null` when it does not answer. */
  #ask(port: number, command: readonly string[]): Promise<unknown> {
    return askRedis(port, command);
  }

  /** The seed URL of every live node. */
  get url(): string {
    return `redis+cluster://${this.#live()
      .map((node) => `127.0.0.1:${node.port}`)
      .join(",")}`;
  }

  #live(): Node[] {
    return this.#nodes.filter((node) => node.process.exitCode === null && !node.process.killed);
  }

  /** Resolves once every live node reports the cluster ok, with every slot served, and every replica has synced. */
  async untilHealthy(ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const infos = await Promise.all(
        this.#live().map((node) => this.#ask(node.port, ["CLUSTER", "INFO"])),
      );
      const healthy = infos.every(
        (info) =>
          typeof info === "string" &&
          info.includes("cluster_state:ok") &&
          info.includes("cluster_slots_ok:16384"),
      );
      // A replica that has not synced once is never promoted: wait until every one has.
      const replication = await Promise.all(
        this.#live().map((node) => this.#ask(node.port, ["INFO", "replication"])),
      );
      const synced = replication.every(
        (info) =>
          typeof info === "string" &&
          (info.includes("role:master") || info.includes("master_link_status:up")),
      );
      if (healthy && synced) return;
      if (Date.now() > deadline)
        throw new Error("the private Redis Cluster did not become healthy");
      await sleep(100);
    }
  }

  /** The port of the master that serves `key`'s slot. */
  async masterOf(key: string): Promise<number> {
    for (const node of this.#live()) {
      const role = (await this.#ask(node.port, ["ROLE"])) as [string] | null;
      if (role?.[0] !== "master") continue;
      const slot = (await this.#ask(node.port, ["CLUSTER", "KEYSLOT", key])) as number;
      const shards = (await this.#ask(node.port, ["CLUSTER", "SLOTS"])) as
        | [number, number, [string, number]][]
        | null;
      const owner = shards?.find(([from, to]) => slot >= from && slot <= to);
      if (owner) return owner[2][1];
    }
    throw new Error(`no master serves the slot of ${key}`);
  }

  /** The ports of the live nodes that answer as masters now. */
  async masters(): Promise<number[]> {
    const roles = await Promise.all(
      this.#live().map(async (node) => ({
        port: node.port,
        role: (await this.#ask(node.port, ["ROLE"])) as [string] | null,
      })),
    );
    return roles.filter(({ role }) => role?.[0] === "master").map(({ port }) => port);
  }

  /** SIGKILLs the node on `port`. */
  kill(port: number): void {
    this.#nodes.find((node) => node.port === port)?.process.kill("SIGKILL");
  }

  destroy(): void {
    for (const node of this.#nodes)
      if (node.process.exitCode === null) node.process.kill("SIGKILL");
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
