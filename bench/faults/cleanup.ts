/**
 * Everything a fault run starts outside its own process — redis-servers,
 * worker processes, temporary directories — is registered here, so that it
 * is killed and removed however the run ends: normally, by an exception, or
 * by Ctrl-C. A campaign that leaves a paused redis-server or a worker behind
 * would skew the next run and the machine it shares.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Kills `child` when the campaign ends, unless it exited before. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Removes `dir` when the campaign ends. */
export function trackDir(dir: string): string {
  dirs.add(dir);
  return dir;
}

/** Kills every tracked child at once and removes the directories. */
export function cleanUpNow(): void {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill("SIGKILL");
  }
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Installs the exit hooks once: normal exit, Ctrl-C, termination, and uncaught failures. */
export function cleanUpOnExit(): void {
  process.once("exit", cleanUpNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanUpNow();
      process.exit(130);
    });
  }
  process.once("uncaughtException", (error) => {
    console.error(error);
    cleanUpNow();
    process.exit(1);
  });
}
