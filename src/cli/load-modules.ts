/**
 * @module cli/load-modules
 * Loads the modules named on the command line: task modules (`--tasks`), the
 * prestart hook and `module:export` references. Paths are relative to the
 * working directory. TypeScript files load directly through tsx; compiled
 * `.js` files load as they are. Every module sees the CLI's own Sheppy (see
 * `sheppy-resolve-hook.ts`).
 */

import { existsSync, readFileSync } from "node:fs";
import { register as registerHooks } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ModuleLoadError, UnknownTaskError } from "../errors.js";
import type { TaskFactory } from "../task/define-task.js";
import type { WorkflowFactory } from "../task/define-workflow.js";
import { likelyMeant } from "../util/likely-meant.js";
import { describeLoadFailure } from "./load-failure.js";
import { isCommonJs, pinForRequire } from "./sheppy-require-pin.js";

const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)$/i;
let tsxRegistered = false;
let pinRegistered = false;
let requirePinned = false;

/** A `module:export` reference split in two; without `:export` it names the default export. */
export interface ExportRef {
  readonly module: string;
  readonly exportName: string;
}

/** Splits `./tasks.ts:sendEmail`. A colon followed by a path (`C:\…`, `file:///…`) is part of the module. */
export function parseExportRef(spec: string): ExportRef {
  const at = spec.lastIndexOf(":");
  const tail = at === -1 ? "" : spec.slice(at + 1);
  if (at <= 0 || tail === "" || /[/\\]/.test(tail)) return { module: spec, exportName: "default" };
  return { module: spec.slice(0, at), exportName: tail };
}

function moduleUrl(path: string): string {
  return path.startsWith("file:") ? path : pathToFileURL(resolve(process.cwd(), path)).href;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "";
}

type ExportTarget = string | { import?: string; default?: string } | null;

/**
 * `sheppy` specifiers → file URLs of this copy, read from its package.json
 * `exports` (plain data, so no resolver, and no hook, can redirect them).
 */
function sheppyExports(): [string, string][] {
  const root = new URL("../../", import.meta.url);
  const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
    name: string;
    exports?: Record<string, ExportTarget>;
  };
  return Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) => {
    const file = typeof target === "string" ? target : (target?.import ?? target?.default);
    if (file === undefined) return [];
    const specifier = subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    return [[specifier, new URL(file, root).href] as [string, string]];
  });
}

/**
 * Installs the loaders the given modules need, once per process: tsx for
 * TypeScript, then the hook that pins `sheppy` (hooks registered later run
 * first, so the pin wins over tsx's `paths` mapping).
 */
async function prepareLoaders(paths: readonly string[]): Promise<void> {
  if (!tsxRegistered && paths.some((path) => TYPESCRIPT.test(path))) {
    let tsx: typeof import("tsx/esm/api");
    try {
      tsx = await import("tsx/esm/api");
    } catch (error) {
      throw new ModuleLoadError(
        `loading TypeScript modules needs the tsx package (npm install tsx): ${firstLine(error)}`,
        { cause: error },
      );
    }
    tsx.register();
    tsxRegistered = true;
    pinRegistered = false;
  }
  if (!pinRegistered) {
    registerHooks("./sheppy-resolve-hook.js", import.meta.url, { data: sheppyExports() });
    pinRegistered = true;
  }
  if (!requirePinned && paths.some((path) => isCommonJs(path))) {
    // A CommonJS module's imports are require() calls: TypeScript ones load through tsx's
    // CommonJS hook (which resolves tsconfig paths too), and `sheppy` is pinned for them as well.
    if (paths.some((path) => TYPESCRIPT.test(path))) (await import("tsx/cjs/api")).register();
    await pinForRequire(sheppyExports());
    requirePinned = true;
  }
}

/** Imports the modules (in order) so that the tasks they define are registered. */
export async function loadModules(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await prepareLoaders(paths);
  for (const path of paths) await importModule(path);
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    const namespace = (await import(moduleUrl(path))) as Record<string, unknown>;
    return isCommonJs(path) ? withCommonJsExports(namespace) : namespace;
  } catch (error) {
    throw new ModuleLoadError(`cannot load module '${path}': ${describeLoadFailure(path, error)}`, {
      cause: error,
    });
  }
}

/** ` — did you mean 'x'?` for an export name one or two letters off one of `names`; empty otherwise. */
function meantOf(name: string, names: readonly string[]): string {
  const meant = likelyMeant(name, names);
  return meant === undefined ? "" : ` — did you mean '${meant}'?`;
}

/** Loads a module and returns the named export; a missing export is a `ModuleLoadError` listing the ones there are. */
export async function loadExport(spec: string): Promise<{ ref: ExportRef; value: unknown }> {
  const ref = parseExportRef(spec);
  await prepareLoaders([ref.module]);
  const namespace = await importModule(ref.module);
  if (!(ref.exportName in namespace)) {
    const names = Object.keys(namespace);
    throw new ModuleLoadError(
      `module '${ref.module}' has no export '${ref.exportName}'${meantOf(ref.exportName, names)} (it exports: ${names.join(", ") || "nothing"})`,
    );
  }
  return { ref, value: namespace[ref.exportName] };
}

/** True for what `task()` returns. */
export function isTaskFactory(value: unknown): value is TaskFactory<unknown[], unknown> {
  return (
    typeof value === "function" && typeof (value as { taskName?: unknown }).taskName === "string"
  );
}

/**
 * A CommonJS module's exports by name. Node.js finds the names by reading the
 * module's code, and the code tsx makes of TypeScript hides them: the
 * namespace then holds `default` (the `module.exports` object) alone.
 */
function withCommonJsExports(namespace: Record<string, unknown>): Record<string, unknown> {
  const exported = namespace.default;
  if (exported === null || (typeof exported !== "object" && typeof exported !== "function")) {
    return namespace;
  }
  return { ...(exported as Record<string, unknown>), ...namespace };
}

/** Loads `module:export` and checks that the export is a task factory (`UnknownTaskError` otherwise). */
export async function loadTaskFactory(spec: string): Promise<TaskFactory<unknown[], unknown>> {
  const ref = parseExportRef(spec);
  await prepareLoaders([ref.module]);
  let namespace: Record<string, unknown>;
  try {
    namespace = await importModule(ref.module);
  } catch (error) {
    // `sendEmail` or `emails.send` alone reads as a module path; say what the reference looks like.
    const bare = !spec.includes(":") && !existsSync(resolve(process.cwd(), spec));
    if (!bare || !(error instanceof ModuleLoadError)) throw error;
    throw new ModuleLoadError(
      `${error.message}; a task is named by its module and the name the module exports it under (not the task's own name), <module>:<export>, e.g. ./tasks.ts:sendEmail`,
      { cause: error.cause },
    );
  }
  const value = namespace[ref.exportName];
  if (isTaskFactory(value)) return value;
  const tasks = Object.keys(namespace).filter((key) => isTaskFactory(namespace[key]));
  const known = `its tasks: ${tasks.join(", ") || "none"}`;
  const isWorkflow = isWorkflowFactory(value);
  throw new UnknownTaskError(
    value === undefined
      ? `unknown task '${ref.exportName}' in module '${ref.module}'${meantOf(ref.exportName, tasks)} (${known})`
      : isWorkflow
        ? `'${ref.exportName}' in module '${ref.module}' is a workflow, not a task: start it with sheppy workflow add ${spec} (${known})`
        : `'${ref.exportName}' in module '${ref.module}' is not a task: define it with task() (${known})`,
  );
}

/** True for what `workflow()` returns. */
export function isWorkflowFactory(value: unknown): value is WorkflowFactory<unknown[], unknown> {
  return (
    typeof value === "function" &&
    typeof (value as { workflowName?: unknown }).workflowName === "string"
  );
}

/** Loads `module:export` and checks that the export is a workflow factory (`UnknownTaskError` otherwise). */
export async function loadWorkflowFactory(
  spec: string,
): Promise<WorkflowFactory<unknown[], unknown>> {
  const ref = parseExportRef(spec);
  await prepareLoaders([ref.module]);
  const namespace = await importModule(ref.module);
  const value = namespace[ref.exportName];
  if (isWorkflowFactory(value)) return value;
  const workflows = Object.keys(namespace).filter((key) => isWorkflowFactory(namespace[key]));
  const known = `its workflows: ${workflows.join(", ") || "none"}`;
  throw new UnknownTaskError(
    value === undefined
      ? `unknown workflow '${ref.exportName}' in module '${ref.module}'${meantOf(ref.exportName, workflows)} (${known})`
      : isTaskFactory(value)
        ? `'${ref.exportName}' in module '${ref.module}' is a task, not a workflow: add it with sheppy task add ${spec} (${known})`
        : `'${ref.exportName}' in module '${ref.module}' is not a workflow: define it with workflow() (${known})`,
  );
}

/** Loads `module:function` and checks that it is a function. */
export async function loadFunction(spec: string): Promise<(...args: unknown[]) => unknown> {
  const { ref, value } = await loadExport(spec);
  if (typeof value !== "function") {
    throw new ModuleLoadError(
      `'${ref.exportName}' in module '${ref.module}' is not a function (it is ${value === null ? "null" : typeof value})`,
    );
  }
  return value as (...args: unknown[]) => unknown;
}
