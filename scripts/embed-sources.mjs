// Writes the Lua scripts and SQL migrations the backends run into TypeScript
// modules beside them, as text constants, so the built package reads no file
// of its own at run time: a bundler (esbuild, Vite, webpack) that copies
// Sheppy's code into an application's bundle leaves such files behind. The
// .lua and .sql files stay the sources to edit; `npm run build` runs this
// first, and a unit test fails while a written module is out of date.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Each embedded set: the folder of sources, the files taken, the module written and its constant. */
export const EMBEDDED = [
  {
    from: "src/backends/redis/scripts",
    pattern: /\.lua$/,
    to: "src/backends/redis/script-files.embedded.ts",
    constant: "SCRIPT_FILES",
    what: "The Lua scripts of the Redis backend, by path under scripts/",
  },
  {
    from: "src/backends/postgres/migrations",
    pattern: /\.sql$/,
    to: "src/backends/postgres/migration-files.embedded.ts",
    constant: "MIGRATION_FILES",
    what: "The SQL migrations of the PostgreSQL backend, by file name under migrations/",
  },
  {
    from: "src/backends/sqlite/migrations",
    pattern: /\.sql$/,
    to: "src/backends/sqlite/migration-files.embedded.ts",
    constant: "MIGRATION_FILES",
    what: "The SQL migrations of the SQLite backend, by file name under migrations/",
  },
];

/** The files of `dir` (and its folders) whose names match `pattern`, by path relative to `dir`, sorted. */
function filesUnder(dir, pattern) {
  const found = [];
  const walk = (at) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (pattern.test(name)) found.push(relative(dir, path).split("\\").join("/"));
    }
  };
  walk(dir);
  return found;
}

/** The text of the module `set` describes, from the files as they are now. */
export function moduleText(set) {
  const dir = join(root, set.from);
  const entries = filesUnder(dir, set.pattern).map(
    (path) =>
      `  ${JSON.stringify(path)}: ${JSON.stringify(readFileSync(join(dir, path), "utf8"))},`,
  );
  return [
    `// Written by scripts/embed-sources.mjs from ${set.from}/: edit those files, then run \`npm run build\`.`,
    `/** ${set.what}: the files' text, embedded so that no file is read at run time. */`,
    `export const ${set.constant}: Readonly<Record<string, string>> = {`,
    ...entries,
    "};",
    "",
  ].join("\n");
}

/** The path of `set`'s module from the package's root. */
export function modulePath(set) {
  return join(root, set.to);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const set of EMBEDDED) {
    const text = moduleText(set);
    const path = modulePath(set);
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {}
    if (current !== text) writeFileSync(path, text);
  }
}
