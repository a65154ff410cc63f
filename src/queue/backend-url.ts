/**
 * @module queue/backend-url
 * Backend URLs → backend instances. Each scheme maps to a factory; backends
 * whose driver library is heavy (ioredis, pg, better-sqlite3) import it only
 * when they connect, so `memory://` never loads a driver.
 */

import type { Backend } from "../backends/backend.js";
import { MemoryBackend } from "../backends/memory/memory-backend.js";
import { RedisBackend } from "../backends/redis/redis-backend.js";
import { BackendUrlError } from "../errors.js";
import { maskUrl } from "../util/mask-url.js";

type BackendFactory = (url: URL, raw: string) => Backend;

function booleanParam(url: URL, name: string, fallback: boolean): boolean {
  const value = url.searchParams.get(name);
  if (value === null) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new BackendUrlError(`backend URL parameter ${name} must be true or false (got '${value}')`);
}

/** `redis://…?prefix=app`: the prefix parameter is Sheppy's; the rest of the URL goes to ioredis. */
function redisFactory(url: URL): Backend {
  const prefix = url.searchParams.get("prefix");
  url.searchParams.delete("prefix");
  return new RedisBackend({ url: url.toString(), ...(prefix ? { prefix } : {}) });
}

const factories = new Map<string, BackendFactory>([
  [
    "memory:",
    (url) => new MemoryBackend({ instantProcessing: booleanParam(url, "instantProcessing", true) }),
  ],
  ["redis:", redisFactory],
  ["rediss:", redisFactory],
]);

/** Registers a backend for a URL scheme (e.g. `"redis:"`). Backend modules call this for their own schemes. */
export function registerBackendScheme(scheme: string, factory: BackendFactory): void {
  factories.set(scheme.endsWith(":") ? scheme : `${scheme}:`, factory);
}

/** Supported schemes, as users write them (`memory://`, …). */
export function supportedSchemes(): string[] {
  return [...factories.keys()].map((scheme) => `${scheme}//`);
}

/** Creates the backend a URL names. Throws `BackendUrlError` for a malformed URL or an unknown scheme. */
export function backendFromUrl(raw: string): Backend {
  if (typeof raw !== "string" || !/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    throw new BackendUrlError(
      `Invalid backend URL '${maskUrl(String(raw))}': expected scheme://… (supported: ${supportedSchemes().join(", ")})`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BackendUrlError(
      `Invalid backend URL '${maskUrl(raw)}': it cannot be parsed as a URL`,
    );
  }
  const factory = factories.get(url.protocol);
  if (!factory) {
    throw new BackendUrlError(
      `Unsupported backend protocol '${url.protocol}//' in '${maskUrl(raw)}' (supported: ${supportedSchemes().join(", ")})`,
    );
  }
  return factory(url, raw);
}
