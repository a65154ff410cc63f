/**
 * @module backends/redis/cluster-url
 * `redis+cluster://[user:password@]host1:port1,host2:port2[?prefix=…]` (and
 * `rediss+cluster://` for TLS): the seed nodes of a Redis Cluster. One seed
 * is enough (the client learns the others from it); several let a process
 * start while one of them is down. A comma-separated host list is not a URL
 * `new URL()` parses, so the hosts are taken out first and the rest (user,
 * password, parameters) parsed as usual.
 */
import { BackendUrlError } from "../../errors.js";
import { maskUrl } from "../../util/mask-url.js";
import { userInfoHint } from "../../util/url-userinfo.js";

/** A seed node of a cluster. */
export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

/** What a cluster URL names: the seeds and the credentials and TLS every node connection uses. */
export interface ClusterTarget {
  readonly nodes: readonly ClusterNode[];
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** The URL's own parameters (`prefix`, `eventCap`, …), read like a `redis://` URL's. */
  readonly params: URLSearchParams;
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;
/** What `parseClusterUrl` reads: a cluster URL, or a `redis://` URL naming one seed (with the `cluster: true` option). */
const SEED_SCHEME = /^(rediss?)(?:\+cluster)?:\/\//i;

/** Whether `url` names a Redis Cluster (`redis+cluster://` or `rediss+cluster://`). */
export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

const DEFAULT_PORT = 6379;

function parseNode(text: string, url: string): ClusterNode {
  // An IPv6 seed is written in brackets, as in any URL: [::1]:7000.
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!match || port < 1 || port > 65535) {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(url)}': '${text}' is not host:port (write the seed nodes as redis+cluster://host1:7000,host2:7001)`,
    );
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
}

function decoded(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(url)}': the user or password has a '%' that is not a percent-encoded byte`,
    );
  }
}

/**
 * The seeds, credentials and parameters of a cluster URL (or of a `redis://`
 * URL naming one seed); a `BackendUrlError` naming the fault when it is
 * malformed.
 */
export function parseClusterUrl(url: string): ClusterTarget {
  const scheme = SEED_SCHEME.exec(url);
  if (!scheme) {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(url)}': expected redis+cluster://host1:port1,host2:port2`,
    );
  }
  const rest = url.slice(scheme[0].length);
  const at = rest.lastIndexOf("@", rest.search(/[/?#]|$/));
  const authority = rest.slice(at + 1).split(/[/?#]/, 1)[0]!;
  const after = rest.slice(at + 1 + authority.length);
  if (authority === "") {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(url)}': it names no seed node (write redis+cluster://host1:7000,host2:7001)`,
    );
  }
  const nodes = authority.split(",").map((text) => parseNode(text, url));
  let parsed: URL;
  try {
    // The first seed stands in for the host list so that the user, password and parameters parse as in any URL.
    parsed = new URL(`redis://${at >= 0 ? rest.slice(0, at + 1) : ""}seed${after}`);
  } catch {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(url)}': it cannot be parsed as a URL${userInfoHint(url)}`,
    );
  }
  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "" && path !== "0") {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(url)}': a cluster has only database 0 (remove '/${path}')`,
    );
  }
  const username = decoded(parsed.username, url);
  const password = decoded(parsed.password, url);
  return {
    nodes,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: scheme[1]!.toLowerCase() === "rediss",
    params: parsed.searchParams,
  };
}
