/**
 * @module http/dashboard
 * The dashboard's files, served by the API's handler: the page at the root
 * and its script and styles under `/assets/`. They are built into
 * `dist/dashboard/` when the package is built (`scripts/build-dashboard.mjs`)
 * and read from disk once, so a running dashboard needs no network — no CDN.
 * The page learns whether it may change anything from a `<meta>` tag, not an
 * inline script, so a strict Content-Security-Policy holds. Every address in
 * it is relative to the page's own (its files, the API, the event streams):
 * behind a proxy that serves the API under another prefix (`/admin/` for an
 * app's `/ops/queues/`) or a `sheppy dashboard` under a path, the page works
 * as it is reached, not as the server mounted it.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { bundleOf, packageDirectoryOf } from "../util/own-location.js";
import { HttpError } from "./api-error.js";

/** What the page is told about the API that serves it. */
export interface DashboardConfig {
  readonly readOnly: boolean;
}

const FILES: Readonly<Record<string, string>> = {
  "/assets/app.js": "text/javascript; charset=utf-8",
  "/assets/app.css": "text/css; charset=utf-8",
};

/**
 * Where the built files are: the package's `dist/dashboard/`, whether this
 * module runs from `dist/` or from `src/` (the tests, `tsx`).
 */
function assetsDirectory(): string | null {
  const root = packageDirectoryOf(import.meta.url as string | undefined, "http/dashboard");
  const dir = root === null ? null : `${root}dist/dashboard/`;
  return dir !== null && existsSync(`${dir}index.html`) ? dir : null;
}

/** Why the dashboard's files cannot be served, and what to do. */
function missingAssetsMessage(): string {
  const bundle = bundleOf(import.meta.url as string | undefined, "http/dashboard");
  return bundle !== null
    ? `the dashboard's files are not in this bundle: a bundler copied sheppy into ${bundle} and left them behind; mark sheppy external in the bundler's settings so it loads from node_modules`
    : "the dashboard is not built: run `npm run build` in the sheppy package";
}

const cache = new Map<string, string>();
const tags = new Map<string, string>();

function read(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    const dir = assetsDirectory();
    if (!dir) {
      throw new HttpError(404, missingAssetsMessage());
    }
    text = readFileSync(`${dir}${name}`, "utf8");
    cache.set(name, text);
    tags.set(name, `"${createHash("sha256").update(text).digest("base64url").slice(0, 22)}"`);
  }
  return text;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/** Headers that keep the page from being framed by another site or loading anything from elsewhere. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Whether `path` (relative to the API's base path) is one of the dashboard's files. */
export function isDashboardPath(path: string): boolean {
  return path === "/" || path === "/index.html" || path in FILES;
}

/**
 * The page for a request of the base path itself, written without its
 * closing slash (`/ops/queues`): the page's files are then addressed as
 * `queues/assets/…`, relative to the request, so they resolve under the base
 * path rather than beside it (the page's script finds the API from its own
 * address either way). Served rather than redirected to the address with
 * the slash: a framework that takes the slash off (Next.js does, with a
 * redirect of its own) would send the browser back and forth for ever.
 */
export function dashboardPageWithoutSlash(requestUrl: URL, config: DashboardConfig): Response {
  const last = requestUrl.pathname.slice(requestUrl.pathname.lastIndexOf("/") + 1);
  return page(config, `${escapeAttribute(encodeURI(last))}/`);
}

/** The page, its files' addresses starting with `prefix` (relative to the page's address). */
function page(config: DashboardConfig, prefix: string): Response {
  const html = read("index.html")
    .replace("%CONFIG%", escapeAttribute(JSON.stringify(config)))
    .replace(/(href|src)="assets\//g, `$1="${prefix}assets/`);
  return new Response(html, {
    headers: { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS },
  });
}

/**
 * The dashboard's answer to a GET of `path` (relative to the API's base
 * path), or `null` when `path` is not one of its files. Its script and
 * styles carry a tag of their content: a browser asks again with it and is
 * answered 304, not sent 90 KB it has.
 */
export function dashboardResponse(
  path: string,
  config: DashboardConfig,
  request: Request,
): Response | null {
  if (path === "/" || path === "/index.html") return page(config, "");
  const type = FILES[path];
  if (!type) return null;
  const name = path.slice("/assets/".length);
  const text = read(name);
  const etag = tags.get(name)!;
  const headers = {
    "content-type": type,
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
    etag,
  };
  const known = request.headers.get("if-none-match");
  if (known?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(text, { headers });
}
