/**
 * @module task/definition-site
 * Where a task or workflow is defined: the chain of the application's own
 * stack frames (file, line, column) that called `task()` or `workflow()`,
 * up to the code that loaded its module.
 * The same module evaluated again — a test runner's module reset, a reload,
 * the same file imported under a second specifier, one module copied into
 * two bundles — defines its tasks from the same site, which a second
 * definition elsewhere never does; the registries let the first replace its
 * earlier definitions and refuse the second, naming both places.
 */
import { fileURLToPath } from "node:url";
import { packageDirectoryOf } from "../util/own-location.js";
import { callSitesAbove } from "./caller-module.js";
import { type FilePosition, originalPosition } from "./original-position.js";

/**
 * This copy's own source directories: their frames are Sheppy's, not the
 * application's. A copy bundled into the application's file has none (its
 * frames are the bundle's, or under node_modules/ through the bundle's map).
 */
const root = packageDirectoryOf(import.meta.url as string | undefined, "task/definition-site");
const own = root === null ? [] : [`${root}src`, `${root}dist`];

/** A frame's file as a path, without the query or hash a loader may add to a module's URL. */
function pathOf(file: string): string {
  const bare = file.replace(/[?#].*$/, "");
  try {
    return bare.startsWith("file:") ? fileURLToPath(bare) : bare;
  } catch {
    return bare;
  }
}

/**
 * Whether a frame's file is the application's: not Node.js's, an installed
 * package's, or Sheppy's — nor, for a source a bundle's map names, a
 * bundler's own runtime (a URL of a scheme of its own, `turbopack://…`).
 */
function isApplications(path: string): boolean {
  return (
    !path.startsWith("node:") &&
    !/^[a-z][a-z0-9+.-]*:\/\//i.test(path) &&
    !path.includes("/node_modules/") &&
    !path.includes("\\node_modules\\") &&
    !own.some((dir) => path.startsWith(dir))
  );
}

/** A definition's site, and the file it names first (for messages). */
export interface DefinitionSite {
  /**
   * The application's frames, `path:line:column`, innermost first, up to the
   * first frame that is not the application's: a helper that defines tasks
   * and the line that calls it are both part of the site, so a helper called
   * twice with one name is still two definitions. A frame in a bundle is
   * where its source map says it comes from, read when the task is defined
   * (a dev server rewrites its bundles): one module copied into two bundles
   * is one site.
   */
  readonly frames: string;
  /** The innermost frame's file. */
  readonly file: string;
  /** The frames of `frames`, innermost first. */
  readonly calls: readonly FilePosition[];
  /** The turn of the event loop it was defined in (see {@link sameSite}). */
  readonly turn: number;
  /** Whether a source map placed any of its frames (else they are the files' as run). */
  readonly mapped: boolean;
}

/** The turn of the event loop under way, counted from the first definition. */
let turn = 0;
let turnCounted = false;

/** Numbers the turns in which definitions happen: all of one module's evaluation is one turn. */
function currentTurn(): number {
  if (!turnCounted) {
    turnCounted = true;
    turn += 1;
    setImmediate(() => {
      turnCounted = false;
    }).unref();
  }
  return turn;
}

/** The site of the `task()` / `workflow()` call under way; `undefined` when no frame is the application's. */
export function definitionSite(): DefinitionSite | undefined {
  const frames = callSitesAbove(definitionSite, 30);
  // A bundle whose map names no source as a file (some bundlers' own schemes) keeps its own frames.
  const mapped = { any: false };
  const calls = applicationCalls(frames, mapped);
  const site = calls.length > 0 ? calls : applicationCalls(frames, undefined);
  if (site.length === 0) return undefined;
  return {
    frames: framesText(site),
    file: site[0]!.path,
    calls: site,
    turn: currentTurn(),
    mapped: calls.length > 0 && mapped.any,
  };
}

/**
 * The application's frames, innermost first, each read through its script's
 * source map when `mapped` is given (which is told whether any map placed one).
 */
function applicationCalls(
  frames: readonly NodeJS.CallSite[],
  mapped: { any: boolean } | undefined,
): FilePosition[] {
  const calls: FilePosition[] = [];
  for (const callSite of frames) {
    // Code evaluated without a file (a dev server's reloaded module) has a source URL instead.
    const script = callSite.getScriptNameOrSourceURL() || callSite.getFileName();
    const at = script ? position(script, callSite) : undefined;
    // Only the application's files are read for a map: Node.js's, packages' and Sheppy's never are.
    const original =
      at === undefined || !isApplications(at.path) || !mapped
        ? undefined
        : originalPosition(script!, at);
    if (original !== undefined) mapped!.any = true;
    const call = original ?? at;
    if (call === undefined || !isApplications(call.path)) {
      // Sheppy's own frames come first; after the application's, the first frame of another
      // kind ends the site: what loaded the module (Node.js, a test runner, a bundler's
      // runtime) is not part of it.
      if (calls.length === 0) continue;
      break;
    }
    calls.push(call);
  }
  return calls;
}

function position(script: string, callSite: NodeJS.CallSite): FilePosition {
  return {
    path: pathOf(script),
    line: callSite.getLineNumber() ?? 0,
    column: callSite.getColumnNumber() ?? 0,
  };
}

function framesText(calls: readonly FilePosition[]): string {
  return calls.map((call) => `${call.path}:${call.line}:${call.column}`).join(" < ");
}

/**
 * Whether a second definition at `again` replaces the one at `first` (the
 * same code run again) rather than colliding with it. Unknown sites never do.
 * Frames are compared as the application's sources say, through a bundle's
 * source map, so one module copied into two bundles is one site. And a
 * module evaluated again after an edit (a dev server's reload) defines its
 * tasks from the same files at other lines: the same files, in a later turn
 * of the event loop, replace — where two definitions of one name in one
 * module, evaluated in one turn, still collide.
 */
export function sameSite(
  first: DefinitionSite | undefined,
  again: DefinitionSite | undefined,
): boolean {
  if (first === undefined || again === undefined) return false;
  if (first.frames === again.frames) return true;
  return (
    first.turn !== again.turn &&
    first.calls.length === again.calls.length &&
    first.calls.every((call, i) => call.path === again.calls[i]!.path)
  );
}

/** " (first in <file>, again in <file>)" for a duplicate's message, or "" when neither site is known. */
export function sitesNote(
  first: DefinitionSite | undefined,
  again: DefinitionSite | undefined,
): string {
  if (!first && !again) return "";
  // One file twice (a helper called from two lines): the lines tell the two apart.
  const oneFile = first !== undefined && again !== undefined && first.file === again.file;
  const where = (site: DefinitionSite | undefined) =>
    site === undefined ? "an unknown module" : oneFile ? site.frames : site.file;
  // Two bundles of one module, built without maps, look like two modules: say what tells them apart.
  const bundles =
    !oneFile &&
    first !== undefined &&
    again !== undefined &&
    !first.mapped &&
    !again.mapped &&
    [first.file, again.file].every((file) => /\.[mc]?js$/.test(file))
      ? "; if these are bundles that each hold one module of yours, build them with source maps (Sheppy reads a bundle's map to tell one module's copies apart from two modules)"
      : "";
  return ` (first in ${where(first)}, again in ${where(again)})${bundles}`;
}
