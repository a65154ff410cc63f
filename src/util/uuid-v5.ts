/**
 * @module util/uuid-v5
 * Name-based UUIDs (RFC 9562 version 5: SHA-1 of a namespace UUID and a
 * name). The same namespace and name give the same id in every process, which
 * is what lets many workers agree on one id without talking to each other
 * (cron definitions and cron instances).
 */
import { createHash } from "node:crypto";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The version-5 UUID of `name` within `namespace` (a UUID), lower case.
 * @example uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org") // "886313e1-3b8a-5372-9b90-0c9aee199e5d"
 */
export function uuidV5(namespace: string, name: string): string {
  if (!UUID.test(namespace)) throw new TypeError(`uuidV5: namespace '${namespace}' is not a UUID`);
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replaceAll("-", ""), "hex"))
    .update(name, "utf8")
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
