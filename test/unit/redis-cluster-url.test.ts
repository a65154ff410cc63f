/**
 * `redis+cluster://` URLs: seed nodes, credentials and Sheppy's parameters
 * are read from them; anything malformed is a one-line BackendUrlError that
 * never shows the password.
 */
import fc from "fast-check";
import { BackendUrlError } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { describe, expect, test } from "vitest";
import { isClusterUrl, parseClusterUrl } from "../../src/backends/redis/cluster-url.js";
import { splitClusterUrl } from "../../src/backends/redis/redis-url.js";
import { backendFromUrl } from "../../src/backends/registry.js";

describe("Redis Cluster URLs", () => {
  test("seeds, user, password and TLS are read; the port defaults to 6379", () => {
    const target = parseClusterUrl("rediss+cluster://app:s%40cret@10.0.0.1:7000,node-b,[::1]:7002");
    expect(target.nodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "node-b", port: 6379 },
      { host: "::1", port: 7002 },
    ]);
    expect(target.username).toBe("app");
    expect(target.password).toBe("s@cret");
    expect(target.tls).toBe(true);
    expect(parseClusterUrl("redis+cluster://h:1").tls).toBe(false);
  });

  test("Sheppy's parameters are taken; another parameter or a database is an error", () => {
    expect(splitClusterUrl("redis+cluster://a:1,b:2?prefix=app&eventCap=50")).toMatchObject({
      prefix: "app",
      eventCap: 50,
      url: "redis+cluster://a:1,b:2?prefix=app&eventCap=50",
    });
    expect(() => splitClusterUrl("redis+cluster://a:1?family=6")).toThrow(
      /unknown parameter 'family'/,
    );
    expect(() => parseClusterUrl("redis+cluster://a:1/2")).toThrow(/only database 0/);
    expect(parseClusterUrl("redis+cluster://a:1/0").nodes).toHaveLength(1);
  });

  test.each([
    ["redis+cluster://", /names no seed node/],
    ["redis+cluster://:pw@", /names no seed node/],
    ["redis+cluster://a:1,,b:2", /'' is not host:port/],
    ["redis+cluster://a:99999", /'a:99999' is not host:port/],
    ["redis+cluster://a:x", /'a:x' is not host:port/],
  ])("%s is refused", (url, reason) => {
    expect(() => parseClusterUrl(url)).toThrow(BackendUrlError);
    expect(() => parseClusterUrl(url)).toThrow(reason);
  });

  test("an error never shows the password", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{6,20}$/), fc.string(), (password, tail) => {
        try {
          parseClusterUrl(`redis+cluster://user:${password}@${tail}`);
        } catch (error) {
          expect(error).toBeInstanceOf(BackendUrlError);
          expect((error as Error).message).not.toContain(password);
          expect((error as Error).message.split("\n")).toHaveLength(1);
        }
      }),
    );
  });

  test("a cluster URL makes a cluster backend; a redis:// URL with cluster: true names one seed", () => {
    expect(isClusterUrl("redis+cluster://a:1")).toBe(true);
    expect(isClusterUrl("redis://a:1")).toBe(false);
    const backend = backendFromUrl("redis+cluster://a:1,b:2?prefix=app") as RedisBackend;
    expect(backend.isCluster).toBe(true);
    expect(backend.prefix).toBe("app");
    const seeded = new RedisBackend({ url: "redis://:pw@h:7000", cluster: true });
    expect(seeded.isCluster).toBe(true);
    expect(new RedisBackend({ url: "redis://h:7000" }).isCluster).toBe(false);
  });
});
