/**
 * @module task/definition-site
 * Where a task or workflow is defined: the chain of the application's own
 * stack frames (file, line, column) that called `task()` or `workflow()`,
 * up to the code that loaded its module.
 * The same module evaluated again — a test runner's module reset, a reload,
 * the same file imported under a second specifier — defines its tasks from
 * the same site, which a second definition elsewhere never does; the
 * registries let the first replace its earlier definitions and refuse the
 * second, naming both places.
 */
import { fileURLToPath } from "node:url";
import { callSitesAbove } from "./caller-module.js";

/** This copy's own source directories: their frames are Sheppy's, not the application's. */
const root = fileURLToPath(new URL("../..", import.meta.url));
const own = [`${root}src`, `${root}dist`];

/** A frame's file as a path, without the query or hash a loader may add to a module's URL. */
function pathOf(file: string): string {
  const bare = file.replace(/[?#].*$/, "");
  try {
    return bare.startsWith("file:") ? fileURLToPath(bare) : bare;
  } catch {
    return bare;
  }
}

/** Whether a frame's file is the application's: not Node.js's, an installed package's, or Sheppy's. */
function isApplications(path: string): boolean {
  return (
    !path.startsWith("node:") &&
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
   * twice with one name is still two definitions.
   */
  readonly frames: string;
  /** The innermost frame's file. */
  readonly file: string;
}

/** The site of the `task()` / `workflow()` call under way; `undefined` when no frame is the application's. */
export function definitionSite(): DefinitionSite | undefined {
  const frames: string[] = [];
  let file: string | undefined;
  for (const callSite of callSitesAbove(definitionSite, 30)) {
    const name = callSite.getFileName();
    const path = name ? pathOf(name) : undefined;
    if (path === undefined || !isApplications(path)) {
      // Sheppy's own frames come first; after the application's, the first frame of another
      // kind ends the site: what loaded the module (Node.js, a test runner) is not part of it.
      if (file === undefined) continue;
      break;
    }
    file ??= path;
    frames.push(`${path}:${callSite.getLineNumber()}:${callSite.getColumnNumber()}`);
  }
  return file === undefined ? undefined : { frames: frames.join(" < "), file };
}

/**
 * Whether a second definition at `again` replaces the one at `first` (the
 * same code run again) rather than colliding with it. Unknown sites never do.
 */
export function sameSite(
  first: DefinitionSite | undefined,
  again: DefinitionSite | undefined,
): boolean {
  return first !== undefined && again !== undefined && first.frames === again.frames;
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
  return ` (first in ${where(first)}, again in ${where(again)})`;
}
