/**
 * A Redis Cluster reached the wrong way is one clear error, soon: a cluster
 * whose nodes are up but whose slots are not assigned yet (`--cluster
 * create` not run) fails the connect within the time bound instead of
 * waiting for ever, and a plain `redis://` URL naming a cluster node is told
 * to use `redis+cluster://` at the first redirection instead of being sent
 * again until the time bound; a cluster URL whose seeds are no cluster nodes
 * says what each seed is. Private nodes only.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { BackendError, BackendUnavailableError, Queue, task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import {
  askRedis,
  freePort,
  PrivateRedis,
  untilRedisAnswers,
} from "../../support/private-redis.js";
import {
  freeNodePort,
  PrivateRedisCluster,
  redisServerInstalled,
  spawnClusterNode,
} from "../../support/private-redis-cluster.js";
import { missingService } from "../../support/services.js";
import { SilentClusterNode } from "../../support/silent-cluster-node.js";

const installed = redisServerInstalled() || missingService("redis-server", "it is not installed");
const echo = task({ name: "cluster-misuse.echo" }, (n: number) => n);

describe.skipIf(!installed)("redis: a cluster reached the wrong way", () => {
  const dir = mkdtempSync(join(tmpdir(), "sheppy-cluster-misuse-"));
  const nodes: ChildProcess[] = [];
  let cluster: PrivateRedisCluster | undefined;

  afterAll(() => {
    for (const node of nodes) node.kill("SIGKILL");
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a cluster without its slots assigned fails the connect within the bound, saying what to check", async () => {
    const port = await freeNodePort();
    nodes.push(spawnClusterNode(port, dir));
    await untilRedisAnswers(port);
    const backend = new RedisBackend({
      url: `redis+cluster://127.0.0.1:${port}`,
      unavailableAfter: 1,
    });
    const error = await backend.connect().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error?.message).toBe(
      `cannot connect to Redis Cluster at redis+cluster://127.0.0.1:${port}: no node gave the cluster's slots within 1 s (is the cluster created, every slot assigned? redis-cli --cluster check)`,
    );
    expect(backend.isConnected).toBe(false);
  });

  it("a redis+cluster:// URL whose seeds are a plain Redis and a closed port says so of each seed", async () => {
    const plain = await PrivateRedis.start();
    try {
      const closed = await freePort();
      const url = `redis+cluster://127.0.0.1:${plain.port},127.0.0.1:${closed}`;
      const error = await new RedisBackend({ url }).connect().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error?.message).toBe(
        `cannot connect to Redis Cluster at ${url}: no seed could be used as a cluster node: 127.0.0.1:${plain.port} is not a cluster node (its cluster support is off; a redis:// URL reaches it); 127.0.0.1:${closed}: connection refused`,
      );
    } finally {
      await plain.destroy();
    }
  });

  it("a connect whose slot reads time out on healthy seeds says so, after trying again, not ioredis's 'None of startup nodes is available'", async () => {
    // Seeds that never give their slots stand in for nodes on a machine too busy to answer in time.
    const seeds = [await SilentClusterNode.start(), await SilentClusterNode.start()];
    try {
      const url = `redis+cluster://${seeds.map((seed) => `127.0.0.1:${seed.port}`).join(",")}`;
      const backend = new RedisBackend({ url, clusterOptions: { slotsRefreshTimeout: 100 } });
      const error = await backend.connect().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error?.message).toBe(
        `cannot connect to Redis Cluster at ${url}: every seed answered as a cluster node when asked again, but the cluster client could not read the slots from any in time (a busy machine or server?)`,
      );
    } finally {
      for (const seed of seeds) await seed.stop();
    }
  });

  it("a redis:// URL naming a cluster node is told to use redis+cluster:// at the first redirection", async () => {
    cluster ??= await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 0 });
    const seed = cluster.url.slice("redis+cluster://".length).split(",")[0]!;
    const backend = new RedisBackend({ url: `redis://${seed}`, prefix: "misuse" });
    try {
      // The connect reads the prefix's queue list, whose slot may be another node's; if not, some
      // of these queues' slots are (three masters share them).
      let refused: unknown = await backend.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      for (const name of ["a", "b", "c", "d", "e", "f", "g", "h"]) {
        if (refused) break;
        refused = await new Queue(backend, { name }).add(echo(1)).then(
          () => undefined,
          (e: unknown) => e,
        );
      }
      expect(refused).toBeInstanceOf(BackendError);
      expect(refused).not.toBeInstanceOf(BackendUnavailableError);
      expect((refused as Error).message).toMatch(
        new RegExp(
          `^(connect|add): Redis at redis://${seed.replace(/\./g, "\\.")} is a node of a Redis Cluster \\(it answered MOVED\\): use a redis\\+cluster:// URL naming its nodes$`,
        ),
      );
    } finally {
      await backend.disconnect();
    }
  });

  it("a redis:// URL naming the cluster node that serves its prefix's keys is warned at connect, though its calls work", async () => {
    cluster ??= await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 0 });
    const seeds = cluster.url.slice("redis+cluster://".length).split(",");
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    // A connect reads keys of more than one slot: find a prefix whose keys one node serves all of.
    let warnedAt: string | undefined;
    for (let n = 0; n < 500 && warnedAt === undefined; n++) {
      for (const seed of seeds) {
        lines.length = 0;
        const backend = new RedisBackend({ url: `redis://${seed}`, prefix: `served${n}`, logger });
        const connected = await backend.connect().then(
          () => true,
          () => false,
        );
        await backend.disconnect();
        if (!connected) continue;
        const warning = lines
          .map((line) => JSON.parse(line) as { msg: string })
          .find((line) => line.msg.includes("is a node of a Redis Cluster"));
        expect(warning?.msg).toBe(
          `the Redis server at redis://${seed} is a node of a Redis Cluster: a redis:// URL serves only the queues whose slots this node holds, until a failover or a resharding moves them; use redis+cluster://host:port,host:port so that every node is followed`,
        );
        warnedAt = seed;
        break;
      }
    }
    expect(warnedAt).toBeDefined();
  });

  it("a seed whose host name does not resolve is left out with a warning; when none resolves, the connect names each", async () => {
    cluster ??= await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 0 });
    const seed = cluster.url.slice("redis+cluster://".length).split(",")[0]!;
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const url = `redis+cluster://nosuchhost.invalid:7101,${seed}`;
    const backend = new RedisBackend({ url, prefix: "misuse-dns", logger });
    try {
      const queue = new Queue(backend, { name: "dns" });
      expect(await queue.add(echo(1))).toBe(true);
      expect(await queue.size()).toBe(1);
      const warned = lines.map((line) => JSON.parse(line) as { msg: string; level: number });
      expect(warned.filter((line) => line.msg.includes("nosuchhost.invalid"))).toEqual([
        expect.objectContaining({
          level: 40,
          msg: expect.stringMatching(
            /^left out of the cluster's seeds, their host names not resolving: nosuchhost\.invalid:7101: unknown host \((ENOTFOUND|EAI_AGAIN)\)$/,
          ),
        }),
      ]);
      await queue.clear();
    } finally {
      await backend.disconnect();
    }
    const none = "redis+cluster://nosuchhost.invalid:7101,alsonot.invalid:7102";
    const error = await new RedisBackend({ url: none }).connect().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error?.message).toMatch(
      /^cannot connect to Redis Cluster at redis\+cluster:\/\/nosuchhost\.invalid:7101,alsonot\.invalid:7102: no seed could be used as a cluster node: nosuchhost\.invalid:7101: unknown host \(\w+\); alsonot\.invalid:7102: unknown host \(\w+\)$/,
    );
  });

  it("a seed that wants a password, or another one, says so in a single server's words", async () => {
    const guarded = await PrivateRedis.start();
    await askRedis(guarded.port, ["CONFIG", "SET", "requirepass", "s3cret"]);
    try {
      for (const [auth, words] of [
        ["", "the server requires a password and the URL gives none"],
        [":xyzzy-guess@", "authentication failed"],
      ] as const) {
        const error = await new RedisBackend({
          url: `redis+cluster://${auth}127.0.0.1:${guarded.port}`,
        })
          .connect()
          .then(
            () => null,
            (e: unknown) => e as Error,
          );
        expect(error).toBeInstanceOf(BackendUnavailableError);
        expect(error?.message).toContain(
          `no seed could be used as a cluster node: 127.0.0.1:${guarded.port}: ${words} (`,
        );
        expect(error?.message).not.toContain("xyzzy");
      }
    } finally {
      await guarded.destroy();
    }
  });
});
