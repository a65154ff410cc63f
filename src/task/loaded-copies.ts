/**
 * @module task/loaded-copies
 * Every copy of Sheppy loaded into a process notes where it was loaded from,
 * in a set all copies share (a global under a registered symbol). Two copies
 * at once — a global CLI and the project's own install, or a task module that
 * imports Sheppy by a path — each keep their own task registry and `Task`
 * class, so a task defined with one is unknown to the other; the errors this
 * causes use the set to say so.
 */
import { bundleOf, packageDirectoryOf } from "../util/own-location.js";

const KEY = Symbol.for("sheppy.loadedCopies");
const shared = globalThis as { [KEY]?: Set<string> };
shared[KEY] ??= new Set<string>();
const copies = shared[KEY];
/** How a copy that a bundler copied into a file of the application's is named. */
const BUNDLED = "a copy bundled into";
/** This copy's package directory (the one holding `dist/` or `src/`), or the note that it has none. */
const directory =
  packageDirectoryOf(import.meta.url as string | undefined, "task/loaded-copies") ??
  `${BUNDLED} ${bundleOf(import.meta.url as string | undefined, "task/loaded-copies")}`;
/**
 * This copy's entry: its directory, or — when a copy from that directory is
 * loaded already — the directory with a count, as when one install is loaded
 * twice (once as an ES module, once turned into CommonJS by a `require()`
 * hook such as tsx's in a CommonJS package).
 */
/** Whether `copy` is a load of this copy's directory (this one or another). */
const isLoadOfThisInstall = (copy: string) =>
  copy === directory || copy.startsWith(`${directory} (`);
const loadsBefore = [...copies].filter(isLoadOfThisInstall).length;
const self = loadsBefore === 0 ? directory : `${directory} (loaded ${loadsBefore + 1} times)`;
copies.add(self);

/** The package directories of the other copies of Sheppy loaded in this process. */
export function otherCopies(): string[] {
  return [...copies].filter((copy) => copy !== self);
}

/** A sentence naming the copies when more than one is known to be loaded; `undefined` when only this one is. */
export function twoCopiesNote(): string | undefined {
  return otherCopies().length === 0 ? undefined : copiesNote();
}

/**
 * A sentence on two copies being loaded, naming those that noted themselves
 * (an older copy does not, so when another one's `Task` is in hand this one
 * may be the only copy named).
 */
export function copiesNote(): string {
  const others = otherCopies();
  const where = others.length === 0 ? `this one from ${self}` : [self, ...others].join(" and ");
  // One install loaded twice: an ES module imported it, and a require() hook (tsx's, for a
  // TypeScript module of a package without "type": "module") loaded it again as CommonJS.
  const twice = others.some(isLoadOfThisInstall);
  const bundled = [self, ...others].some((copy) => copy.startsWith(BUNDLED));
  const fix = bundled
    ? "a bundler copied sheppy into a bundle while another copy loads from node_modules: mark sheppy external in the bundler's settings (esbuild --external:sheppy, Vite ssr.external, webpack externals), so that one copy serves both"
    : twice
      ? 'one install loaded twice, as an ES module and as CommonJS (a TypeScript module of a package without "type": "module", loaded by tsx): give the package "type": "module", or name its modules .mts, or start the worker with sheppy work'
      : "import sheppy by its package name, from one install";
  return `two copies of sheppy are loaded (${where}), each with its own tasks: ${fix}`;
}
