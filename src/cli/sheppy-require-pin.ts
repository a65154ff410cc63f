/**
 * @module cli/sheppy-require-pin
 * The pin of `sheppy-resolve-hook.ts`, for `require()`: a task module of a
 * CommonJS package (TypeScript there turns its imports into `require()`
 * calls) gets the CLI's own copy of Sheppy from `require("sheppy")` too.
 * Left alone, tsx's `require()` hook would load Sheppy's files once more,
 * turned into CommonJS — a second copy with a registry of its own, where the
 * module's tasks would be defined and the worker would not find them. So
 * each entry point's module, as the CLI imported it, is put in `require`'s
 * cache under its file, where `require()` looks first.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Entry points a task module has no business requiring (the contract suite imports vitest). */
const NOT_PINNED = new Set(["sheppy/backend/contract"]);

/** Whether the module at `path` is CommonJS: by its extension, or by its package's `type`. */
export function isCommonJs(path: string): boolean {
  if (/\.(?:cjs|cts)$/i.test(path)) return true;
  if (!/\.(?:js|ts|tsx)$/i.test(path)) return false;
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: unknown }).type !== "module";
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/** Puts the CLI's module of each `[specifier, file URL]` entry in `require`'s cache. */
export async function pinForRequire(
  entries: readonly (readonly [string, string])[],
): Promise<void> {
  const cache = createRequire(import.meta.url).cache;
  for (const [specifier, url] of entries) {
    const path = fileURLToPath(url);
    if (NOT_PINNED.has(specifier) || cache[path] !== undefined) continue;
    let namespace: object;
    try {
      namespace = (await import(url)) as object;
    } catch {
      // An entry point that cannot load here (a backend whose driver is not installed) is one a
      // task module cannot require either: it fails there with its own error.
      continue;
    }
    const module = new Module(path);
    module.filename = path;
    module.loaded = true;
    module.exports = namespace;
    cache[path] = module;
  }
}
