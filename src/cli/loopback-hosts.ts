/**
 * @module cli/loopback-hosts
 * The host names a server of the CLI answers to when it listens on loopback
 * (its default): a web page whose own domain resolves to 127.0.0.1 (DNS
 * rebinding) sends that domain as its `Host`, and is refused, instead of
 * reading (or changing) what only this machine was meant to reach.
 */

/** Addresses that only this machine reaches. */
export const LOOPBACK: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "localhost"]);

/** The `Host` names (without the port) a loopback server answers to. */
export const LOOPBACK_HOST_NAMES: readonly string[] = ["localhost", "127.0.0.1", "[::1]"];

/** The name a `Host` header gives, without its port, lower-cased (`[::1]:80` → `[::1]`). */
export function hostNameOf(header: string): string {
  return header.replace(/:\d*$/, "").toLowerCase();
}
