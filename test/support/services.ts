/**
 * Real servers for tests. With CI=true a missing service fails the suite; on a
 * developer machine the dependent tests are skipped with one line saying why.
 */
import { Socket } from "node:net";

function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Checks that a service answers. Returns `true` when tests may use it; when it
 * does not answer, throws in CI and returns `false` (after printing why) elsewhere.
 */
export async function requireService(name: string, url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  if (await reachable(hostname || "127.0.0.1", Number(port))) return true;
  return missingService(name, `${name} is not reachable at ${url}`);
}

/** A service the tests need is missing: throws in CI; elsewhere prints why its tests are skipped. */
export function missingService(name: string, why: string): false {
  if (process.env.CI === "true") throw new Error(`${why} (CI=true: tests that need it must run)`);
  console.warn(`skipping ${name} tests: ${why}`);
  return false;
}
