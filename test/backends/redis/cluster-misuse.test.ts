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
import { BackendError, BackendUnavailableError, Queue, task } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, PrivateRedis, untilRedisAnswers } from "../../support/private-redis.js";
import {
  freeNodePort,
  PrivateRedisCluster,
  redisServerInstalled,
  spawnClusterNode,
} from "../../support/private-redis-cluster.js";
import { missingService } from "../../support/services.js";

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
        `cannot connect to Redis Cluster at ${url}: no seed serves as a cluster node: 127.0.0.1:${plain.port} is not a cluster node (its cluster support is off; a redis:// URL reaches it); 127.0.0.1:${closed}: connection refused`,
      );
    } finally {
      await plain.destroy();
    }
  });

  it("a redis:// URL naming a cluster node is told to use redis+cluster:// at the first redirection", async () => {
    cluster = await PrivateRedisCluster.start({ masters: 3, replicasPerMaster: 0 });
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
});
