/**
 * @module task/original-position
 * Where a position in a generated file comes from in the application's own
 * sources, read through the file's source map. A bundler (Next.js, Vite's
 * server build) copies one module into several bundles that one process
 * loads, each copy at another position — and, minified, with other local
 * names — so only the source map says that two definitions are one line of
 * one file. Node.js reads the map (`SourceMap` of `node:module`); this finds
 * it: the file's last `sourceMappingURL` comment, a file beside it or
 * inline as a `data:` URL.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { findSourceMap, SourceMap, type SourceMapPayload } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A position in a file, lines and columns counting from 1 as stack frames give them. */
export interface FilePosition {
  readonly path: string;
  readonly line: number;
  readonly column: number;
}

/** The comment a generated file ends with to name its map (`//@` is the older spelling). */
const MAP_COMMENT = /\/\/[#@] sourceMappingURL=(\S+)\s*$/;
/** Only a file's end holds the comment; a large bundle is not read whole. */
const TAIL_BYTES = 4096;

/** A file's source map and where it was read from (sources are relative to it); `null` when it has none. */
interface ReadMap {
  readonly map: SourceMap;
  readonly url: URL;
  readonly sourceRoot: string;
}

/** The last `bytes` of the file at `path` (a bundle may be megabytes; its map comment ends it). */
function tailOf(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function readMap(path: string): ReadMap | null {
  try {
    const named = MAP_COMMENT.exec(tailOf(path, TAIL_BYTES))?.[1];
    if (named === undefined) return null;
    const fileUrl = pathToFileURL(path);
    const url = new URL(named, fileUrl);
    const payload = JSON.parse(
      url.protocol === "data:" ? inlineMap(url.href) : readFileSync(fileURLToPath(url), "utf8"),
    ) as SourceMapPayload & { sourceRoot?: unknown };
    const sourceRoot = typeof payload.sourceRoot === "string" ? payload.sourceRoot : "";
    // An inline map's sources are relative to the file it is in.
    return {
      map: new SourceMap(payload),
      url: url.protocol === "data:" ? fileUrl : url,
      sourceRoot,
    };
  } catch {
    // No file, no map, a map that is not JSON or not a source map: the position stays as it is.
    return null;
  }
}

/** The JSON of a `data:` URL's map (base64 or percent-encoded). */
function inlineMap(href: string): string {
  const comma = href.indexOf(",");
  const data = href.slice(comma + 1);
  return href.slice(0, comma).endsWith(";base64")
    ? Buffer.from(data, "base64").toString("utf8")
    : decodeURIComponent(data);
}

/** A map's source as a path (or as the URL it is, for a bundler's own scheme such as `webpack://`). */
function sourcePath(read: ReadMap, source: string): string {
  const root =
    read.sourceRoot === "" || read.sourceRoot.endsWith("/")
      ? read.sourceRoot
      : `${read.sourceRoot}/`;
  const url = new URL(root + source, read.url);
  return url.protocol === "file:" ? fileURLToPath(url) : url.href;
}

/** Maps read from files, each with the file's modification time and size when read. */
const readMaps = new Map<string, { readonly stamp: string; readonly read: ReadMap | null }>();

/** `path`'s map, read again only when the file changed (a dev server rewrites its bundles in place). */
function mapOfFile(path: string): ReadMap | null {
  let stamp: string;
  try {
    const stats = statSync(path);
    stamp = `${stats.mtimeMs}:${stats.size}`;
  } catch {
    return null;
  }
  const cached = readMaps.get(path);
  if (cached?.stamp === stamp) return cached.read;
  const read = readMap(path);
  readMaps.set(path, { stamp, read });
  return read;
}

/**
 * The map of the script a stack frame names: Node.js's own copy when its
 * source-map support is on (`--enable-source-maps`: it holds the maps of
 * code evaluated without a file too, such as a dev server's reloaded
 * modules), else the one the file names.
 */
function mapOf(script: string, path: string): ReadMap | null {
  let held: SourceMap | undefined;
  try {
    held = findSourceMap(script);
  } catch {
    held = undefined;
  }
  // Node.js resolves a held map's sources itself, against the script.
  if (held !== undefined) return { map: held, url: new URL(pathToFileURL(path)), sourceRoot: "" };
  return mapOfFile(path);
}

/**
 * Where `position` comes from: the source its script's map names, or
 * `undefined` when the script has no source map that covers the position.
 * `script` is the frame's script name or source URL (`path` without a
 * loader's query).
 */
export function originalPosition(script: string, position: FilePosition): FilePosition | undefined {
  const read = mapOf(script, position.path);
  if (read === null) return undefined;
  const entry = read.map.findEntry(position.line - 1, position.column - 1) as Partial<{
    originalSource: string;
    originalLine: number;
    originalColumn: number;
  }>;
  if (entry.originalSource === undefined || entry.originalLine === undefined) return undefined;
  return {
    path: sourcePath(read, entry.originalSource),
    line: entry.originalLine + 1,
    column: (entry.originalColumn ?? 0) + 1,
  };
}
