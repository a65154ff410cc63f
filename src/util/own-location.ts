/**
 * @module util/own-location
 * Where this copy of Sheppy was loaded from. An application's bundler may
 * have copied Sheppy into a bundle of its own: its modules then share the
 * bundle's URL, or have none at all (esbuild's CommonJS output leaves
 * `import.meta` empty), so nothing here may throw, nor take the bundle's
 * folders for Sheppy's.
 */
import { fileURLToPath } from "node:url";

/**
 * The package directory (ending in a separator) of the module at
 * `moduleUrl`, given that module's path in the package without its
 * extension (`task/definition-site`): the directory holding `src/` or
 * `dist/`. `null` when the URL is not that module's own file — a bundle, or
 * no URL at all.
 */
export function packageDirectoryOf(
  moduleUrl: string | undefined,
  modulePath: string,
): string | null {
  if (typeof moduleUrl !== "string") return null;
  let path: string;
  try {
    path = fileURLToPath(moduleUrl);
  } catch {
    return null;
  }
  const normal = path.split("\\").join("/");
  for (const [folder, extension] of [
    ["src", ".ts"],
    ["dist", ".js"],
  ] as const) {
    const tail = `/${folder}/${modulePath}${extension}`;
    if (normal.endsWith(tail)) return path.slice(0, path.length - tail.length + 1);
  }
  return null;
}

/**
 * Where a bundler copied the module at `moduleUrl` (path `modulePath`, as for
 * {@link packageDirectoryOf}) — the bundle's URL, or "a CommonJS file" —
 * or `null` when it runs from its own file.
 */
export function bundleOf(moduleUrl: string | undefined, modulePath: string): string | null {
  if (packageDirectoryOf(moduleUrl, modulePath) !== null) return null;
  return typeof moduleUrl === "string" ? moduleUrl : "a CommonJS file";
}
