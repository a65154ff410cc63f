/**
 * @module cli/sheppy-resolve-hook
 * A module-resolution hook the CLI registers before it imports the user's
 * modules: `sheppy` and `sheppy/…` always resolve to the copy of Sheppy the
 * CLI itself runs. Task modules register their tasks in that copy's registry
 * and create `Task`s of its class, so the worker finds them by name and the
 * queue accepts them. Without the pin, a tsconfig `paths` entry (read by tsx)
 * or a second installed copy would give the modules a registry of their own.
 *
 * Hooks run on a separate thread without `import.meta.resolve`, so the CLI
 * passes the finished map (specifier → file URL) in `initialize`.
 */
import type { InitializeHook, ResolveHook } from "node:module";

let pinned = new Map<string, string>();

/** Receives `[specifier, url]` pairs, e.g. `["sheppy", "file:///…/dist/index.js"]`. */
export const initialize: InitializeHook<readonly (readonly [string, string])[]> = (entries) => {
  pinned = new Map(entries);
};

/** Pinned specifiers resolve to the CLI's copy; everything else goes on down the chain. */
export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  const url = pinned.get(specifier);
  return url === undefined ? nextResolve(specifier, context) : { url, shortCircuit: true };
};
