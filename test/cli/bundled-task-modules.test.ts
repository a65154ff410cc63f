/**
 * Task modules as a bundler hands them to Node.js: Next.js and other server
 * bundlers copy one module into several bundles that one process loads, at
 * other positions and, minified, with other local names; a dev server
 * evaluates a module again after each edit. The built package, run by plain
 * Node.js on bundles esbuild makes with source maps, must take one module's
 * copies as one definition and a reload as a replacement, and still refuse
 * one name defined in two modules or twice in one. (`npm test` builds before
 * it runs the tests in this folder.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sheppy-bundles-"));
  mkdirSync(join(dir, "node_modules"));
  // The bundles import "sheppy" as an application's do: the built package.
  symlinkSync(root, join(dir, "node_modules", "sheppy"), "dir");
  // What a dev server does to reload a module, from where a dev server's code is: a package.
  mkdirSync(join(dir, "node_modules", "dev-server"));
  writeFileSync(
    join(dir, "node_modules", "dev-server", "index.mjs"),
    [
      'import { createRequire } from "node:module";',
      "export function evaluate(code, parent) {",
      "  const module = { exports: {} };",
      "  (0, eval)(code)(createRequire(parent), module, module.exports);",
      "  return module.exports;",
      "}",
    ].join("\n"),
  );
  mkdirSync(join(dir, "src"));
  mkdirSync(join(dir, "out"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `source` as `src/<name>`. */
function source(name: string, text: string): void {
  writeFileSync(join(dir, "src", name), text);
}

/** Bundles `src/<entry>` into `out/<out>`, its source map beside it or inline. */
async function bundle(
  entry: string,
  out: string,
  how: {
    minify?: boolean;
    sourcemap: "linked" | "inline" | false;
    banner?: string;
    format?: "esm" | "cjs";
  },
): Promise<void> {
  await build({
    entryPoints: [join(dir, "src", entry)],
    outfile: join(dir, "out", out),
    bundle: true,
    format: how.format ?? "esm",
    platform: "node",
    external: ["sheppy"],
    minify: how.minify ?? false,
    sourcemap: how.sourcemap,
    // Moves the bundled module's code to other lines, as a bundle's other modules do.
    banner: { js: how.banner ?? "" },
    logLevel: "silent",
  });
}

/** Runs `script` (ES module text) with Node.js in the folder; its stdout, stderr and status. */
function run(
  script: string,
  nodeOptions: readonly string[] = [],
): { status: number | null; stdout: string; stderr: string } {
  writeFileSync(join(dir, "run.mjs"), script);
  const result = spawnSync(process.execPath, [...nodeOptions, join(dir, "run.mjs")], {
    cwd: dir,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

/** Imports `out/<first>`, then `out/<second>`; prints the second's error, or "defined twice". */
function importSecondAfterFirst(first: string, second: string) {
  return run(`
    await import("./out/${first}");
    try {
      await import("./out/${second}");
      console.log("defined twice");
    } catch (error) {
      console.log(error.name + ": " + error.message);
    }
  `);
}

const GREET = `import { task } from "sheppy";
export const greet = task({ name: "bundled.greet", retry: 1 }, async (name: string) => {
  const greeting = "hello " + name;
  return greeting;
});
`;

describe("task modules in bundles", () => {
  it("one module copied into two bundles (one minified) defines its task once, whichever loads second", async () => {
    source("greet.ts", GREET);
    source("page.ts", 'export { greet } from "./greet";\nexport const page = 1;\n');
    await bundle("greet.ts", "route.js", { sourcemap: "linked" });
    await bundle("page.ts", "page.js", {
      sourcemap: "inline",
      minify: true,
      banner: "const padding = [1, 2, 3];\nvoid padding;\n",
    });
    const result = run(`
      import { TestQueue } from "sheppy/testing";
      const route = await import("./out/route.js");
      const page = await import("./out/page.js");
      const queue = new TestQueue();
      const t = route.greet("ada");
      await queue.add(t);
      await queue.processAll();
      console.log(JSON.stringify([route.greet !== page.greet, (await queue.getTask(t)).result]));
    `);
    expect(result).toEqual({ status: 0, stdout: '[true,"hello ada"]', stderr: "" });
  });

  it("the same name in two modules is refused, naming the modules' sources rather than the bundles", async () => {
    source("greet.ts", GREET);
    source("other.ts", GREET.replace('"hello "', '"hi "'));
    await bundle("greet.ts", "greet.js", { sourcemap: "linked" });
    await bundle("other.ts", "other.js", { sourcemap: "linked" });
    const result = importSecondAfterFirst("greet.js", "other.js");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `DuplicateTaskNameError: task 'bundled.greet' is already defined in this process (first in ${join(dir, "src", "greet.ts")}, again in ${join(dir, "src", "other.ts")}); task names must be unique (pass a different { name })`,
    );
  });

  it("one module in two bundles built without source maps is refused, the message saying to build them with maps", async () => {
    source("greet.ts", GREET);
    source("page.ts", 'export { greet } from "./greet";\nexport const page = 1;\n');
    await bundle("greet.ts", "route-unmapped.js", { sourcemap: false });
    await bundle("page.ts", "page-unmapped.js", { sourcemap: false, banner: "void 0;\n" });
    const result = importSecondAfterFirst("route-unmapped.js", "page-unmapped.js");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `DuplicateTaskNameError: task 'bundled.greet' is already defined in this process (first in ${join(dir, "out", "route-unmapped.js")}, again in ${join(dir, "out", "page-unmapped.js")}); if these are bundles that each hold one module of yours, build them with source maps (Sheppy reads a bundle's map to tell one module's copies apart from two modules); task names must be unique (pass a different { name })`,
    );
  });

  it("a module bundled again after an edit that moved its lines replaces its definitions: the edited code runs", async () => {
    source("greet.ts", GREET);
    await bundle("greet.ts", "greet-1.js", { sourcemap: "linked" });
    source(
      "greet.ts",
      `// An edit above the task moves it down.\n${GREET.replace('"hello "', '"hello again, "')}`,
    );
    await bundle("greet.ts", "greet-2.js", { sourcemap: "linked" });
    const result = run(`
      import { TestQueue } from "sheppy/testing";
      const before = await import("./out/greet-1.js");
      await new Promise((resolve) => setTimeout(resolve, 10));
      await import("./out/greet-2.js");
      const queue = new TestQueue();
      const t = before.greet("ada");
      await queue.add(t);
      await queue.processAll();
      console.log((await queue.getTask(t)).result);
    `);
    expect(result).toEqual({ status: 0, stdout: "hello again, ada", stderr: "" });
  });

  it("a module a dev server evaluates again without a file (a source URL, its map inline) replaces its definitions", async () => {
    source("greet.ts", GREET);
    await bundle("greet.ts", "greet-1.js", { sourcemap: "linked" });
    source("greet.ts", `// An edit.\n\n${GREET.replace('"hello "', '"hello again, "')}`);
    await bundle("greet.ts", "greet-2.cjs", { sourcemap: "inline", format: "cjs" });
    // As a dev server reloads a module: its code evaluated (indirect eval) in a wrapper, named by a source URL
    // (the bundle's path with a query), its map inline; Node.js reads the map when its
    // source-map support is on, as Next.js's dev server turns it on.
    const result = run(
      `
      import { readFileSync } from "node:fs";
      import { pathToFileURL } from "node:url";
      import { evaluate } from "dev-server/index.mjs";
      import { TestQueue } from "sheppy/testing";
      const before = await import("./out/greet-1.js");
      await new Promise((resolve) => setTimeout(resolve, 10));
      const code = readFileSync("./out/greet-2.cjs", "utf8");
      // Split so that Node.js does not take this script's own text for a map comment.
      const marker = "//# source" + "MappingURL=";
      const at = code.lastIndexOf(marker);
      const url = pathToFileURL("./out/chunk.js").href + "?id=greet.ts";
      evaluate(
        "(function (require, module, exports) {" + code.slice(0, at) + "\\n})\\n//# sourceURL=" + url + "\\n" + code.slice(at).trim(),
        import.meta.url,
      );
      const queue = new TestQueue();
      const t = before.greet("ada");
      await queue.add(t);
      await queue.processAll();
      console.log((await queue.getTask(t)).result);
    `,
      ["--enable-source-maps"],
    );
    expect(result).toEqual({ status: 0, stdout: "hello again, ada", stderr: "" });
  });

  it("one name defined twice in one module is refused, naming both lines of its source", async () => {
    source(
      "twice.ts",
      `${GREET}export const again = task({ name: "bundled.greet" }, () => "copied");\n`,
    );
    await bundle("twice.ts", "twice.js", { sourcemap: "linked", minify: true });
    const result = run(`
      try {
        await import("./out/twice.js");
        console.log("defined twice");
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }
    `);
    const file = join(dir, "src", "twice.ts");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `DuplicateTaskNameError: task 'bundled.greet' is already defined in this process (first in ${file}:2:22, again in ${file}:6:22); task names must be unique (pass a different { name })`,
    );
  });
});
