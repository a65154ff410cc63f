/**
 * @module cli/load-failure
 * One line saying why a module named on the command line did not load, with
 * the file, line and column of a syntax error. A TypeScript syntax error
 * (tsx's transform) carries its location in the message's second line; a
 * JavaScript one thrown by `import()` carries none, so the file is checked
 * again with `node --check`, which prints it. A TypeScript module in a
 * CommonJS package loaded without tsx's CommonJS hook fails with Node's
 * "require() of ES Module in a cycle", which says nothing useful: the line
 * says what to change instead. So does a `.cts` module, which tsx turns into a `require()` of Sheppy that Node 20
 * refuses with an internal "not in cache" error, and a `.ts` module of a
 * CommonJS package written with `require()`, which Node then runs as plain
 * JavaScript and fails on the first type annotation (its location is taken
 * from the error's stack).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BackendError, WaitTimeoutError } from "../errors.js";

const JAVASCRIPT = /\.(?:js|mjs|cjs)$/i;
const TYPESCRIPT = /\.(?:ts|cts|mts|tsx)$/i;
/** A syntax error's stack starts with `file:line`, the line of code and carets under the culprit. */
const STACK_LOCATION = /^(.+:\d+)\n.*\n( *)\^/;
const ESM_ADVICE =
  'write it as an ES module: name it .mts, or add "type": "module" to its package.json';
/** `/path/file.ts:2:11: ERROR: Unexpected ";"` in esbuild's message. */
const ESBUILD_LOCATION = /^(.+?:\d+:\d+): (?:ERROR: )?(.*)$/;

/** What to print after `cannot load module '<path>': `. */
export function describeLoadFailure(path: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ERR_REQUIRE_CYCLE_MODULE" || /Cannot require\(\) ES Module/.test(message)) {
    return 'it uses ES module syntax but its nearest package.json does not say "type": "module" — add that, or name the file .mts / .mjs';
  }
  if (/\.cts$/i.test(path) && /is not in cache|reading 'exports'/.test(message)) {
    // A .cts file is CommonJS whatever its package.json says: only another name makes it a module.
    return 'a .cts module is CommonJS, which cannot require() Sheppy (an ES module) when loaded as a task module — rename it .mts (or .ts in a package whose package.json says "type": "module")';
  }
  const lines = message.split("\n");
  if (error instanceof SyntaxError && TYPESCRIPT.test(path)) {
    const located = STACK_LOCATION.exec(error.stack ?? "");
    if (located) {
      return `${located[1]}:${located[2]!.length + 1}: ${lines[0]} (it was run as CommonJS JavaScript, without TypeScript — ${ESM_ADVICE})`;
    }
  }
  if (/^Transform failed/.test(lines[0] ?? "")) {
    for (const line of lines.slice(1)) {
      const located = ESBUILD_LOCATION.exec(line.trim());
      if (located) return `${located[1]}: ${located[2]}`;
    }
  }
  if (error instanceof SyntaxError && JAVASCRIPT.test(path)) {
    const located = locateWithNodeCheck(path);
    if (located) return `${located}: ${lines[0]}`;
  }
  if (error instanceof WaitTimeoutError || error instanceof BackendError) {
    return `${lines[0] ?? ""} (thrown by the module's own top-level code while it was imported: a task module is imported to learn its tasks, so code in it that adds or waits for tasks runs too — keep that code in another file)`;
  }
  return lines[0] ?? "";
}

/** `file:line:column` of the syntax error `node --check` finds in `path`, or `null`. */
function locateWithNodeCheck(path: string): string | null {
  const file = path.startsWith("file:") ? fileURLToPath(path) : path;
  const checked = spawnSync(process.execPath, ["--check", file], {
    encoding: "utf8",
    timeout: 10_000,
  });
  // It prints `file:line`, the line of code, then a caret under the column.
  const [where, , caret] = (checked.stderr ?? "").split("\n");
  if (!where || !/:\d+$/.test(where)) return null;
  const column = caret?.indexOf("^") ?? -1;
  return column >= 0 ? `${where}:${column + 1}` : where;
}
