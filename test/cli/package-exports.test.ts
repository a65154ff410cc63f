/**
 * The published entry points, as built: every `exports` entry of
 * package.json resolves to a built module and its types; the root entry is
 * the application API (no backend-author helpers leak into it); the
 * `sheppy/backend` entry carries the backend contract kit. (`npm test`
 * builds before it runs the tests in this folder.)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as {
  exports: Record<string, string | { types: string; default: string }>;
};
const entries = Object.entries(pkg.exports).filter(
  (entry): entry is [string, { types: string; default: string }] => typeof entry[1] === "object",
);

describe("package entry points", () => {
  it("every export has a built module and its declarations", () => {
    expect(entries.map(([name]) => name).sort()).toEqual(
      [
        ".",
        "./backend",
        "./backend/contract",
        "./backends/memory",
        "./backends/postgres",
        "./backends/redis",
        "./backends/sqlite",
        "./http",
        "./testing",
      ].sort(),
    );
    for (const [name, target] of entries) {
      expect(existsSync(`${root}/${target.default}`), `${name} → ${target.default}`).toBe(true);
      expect(existsSync(`${root}/${target.types}`), `${name} → ${target.types}`).toBe(true);
    }
  });

  it("importing the backend kit defines no task: a name the contract suite uses stays the application's", () => {
    const script = [
      `await import(${JSON.stringify(`${root}/dist/backend-kit/index.js`)});`,
      `const { task } = await import(${JSON.stringify(`${root}/dist/index.js`)});`,
      'task({ name: "worker.add" }, () => 1);',
      'console.log("defined");',
    ].join("\n");
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect([run.status, run.stdout.trim(), run.stderr]).toEqual([0, "defined", ""]);
  });

  it("the root is the application API; the backend kit is its own entry", async () => {
    const at = (name: string) =>
      import(`${root}/${entries.find(([entry]) => entry === name)![1].default}`) as Promise<
        Record<string, unknown>
      >;
    const app = await at(".");
    for (const name of [
      "Queue",
      "Worker",
      "task",
      "MemoryBackend",
      "RedisBackend",
      "PostgresBackend",
      "SqliteBackend",
      "use",
    ]) {
      expect(typeof app[name], name).toBe("function");
    }
    for (const name of [
      "resolveTtl",
      "encodeTaskData",
      "decodeTaskData",
      "maskUrl",
      "backendFromUrl",
    ]) {
      expect(app[name], `${name} is not part of the application API`).toBeUndefined();
    }
    const kit = await at("./backend");
    // The suite is an entry of its own; the old import says where it went.
    expect(() => (kit.runBackendContract as () => void)()).toThrow(
      /runBackendContract is imported from "sheppy\/backend\/contract"/,
    );
    const contract = await at("./backend/contract");
    expect(typeof contract.runBackendContract).toBe("function");
    for (const name of [
      "registerBackendScheme",
      "registerRawBackendScheme",
      "routeOf",
      "readStoredRecord",
    ]) {
      expect(typeof kit[name], name).toBe("function");
    }
    const memory = await at("./backends/memory");
    const redis = await at("./backends/redis");
    expect(memory.MemoryBackend).toBe(app.MemoryBackend);
    expect(redis.RedisBackend).toBe(app.RedisBackend);
    const postgres = await at("./backends/postgres");
    expect(postgres.PostgresBackend).toBe(app.PostgresBackend);
    for (const name of ["migrate", "migrationStatus"]) {
      expect(typeof postgres[name], name).toBe("function");
    }
    const sqlite = await at("./backends/sqlite");
    expect(sqlite.SqliteBackend).toBe(app.SqliteBackend);
    // The HTTP API is its own entry, so an app that does not serve it never loads it.
    const http = await at("./http");
    for (const name of ["createHttpHandler", "toNodeHandler"]) {
      expect(typeof http[name], name).toBe("function");
      expect(app[name], `${name} is not in the root entry`).toBeUndefined();
    }
  });

  // Optional peers: an application (or a backend author importing `sheppy/backend`'s types)
  // that does not install one must still type-check.
  it.each(["better-sqlite3", "vitest"])(
    "no declaration names %s, so applications need neither it nor its types to type-check",
    (name) => {
      const named = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
          const path = `${dir}/${entry.name}`;
          if (entry.isDirectory()) return named(path);
          return entry.name.endsWith(".d.ts") &&
            new RegExp(`["']${name}["']`).test(readFileSync(path, "utf8"))
            ? [path.slice(root.length + 1)]
            : [];
        });
      expect(named(`${root}/dist`)).toEqual([]);
    },
  );

  it("every source map in the package names sources the package ships", () => {
    const files = packedFiles();
    const maps = [...files].filter((path) => path.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(100);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), "utf8")) as {
        sources: string[];
      };
      for (const source of sources) {
        const shipped = relative(root, join(root, dirname(map), source));
        if (!files.has(shipped)) missing.push(`${map} → ${shipped}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("every relative link of the README and the docs points to a file the package ships", () => {
    const files = packedFiles();
    const documents = [...files].filter(
      (path) => path === "README.md" || /^docs\/.*\.md$/.test(path),
    );
    expect(documents.length).toBeGreaterThan(10);
    const broken: string[] = [];
    for (const document of documents) {
      const text = readFileSync(join(root, document), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z][a-z+.-]*:/i.test(target!)) continue; // https:, mailto: …
        const shipped = relative(root, join(root, dirname(document), target!));
        if (!files.has(shipped) && ![...files].some((path) => path.startsWith(`${shipped}/`)))
          broken.push(`${document} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** The paths `npm pack` would put in the package (scripts not run). */
function packedFiles(): Set<string> {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const packed = JSON.parse(
    execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }),
  ) as { files: { path: string }[] }[];
  return new Set(packed[0]!.files.map((file) => file.path));
}
