// Copies the non-TypeScript files the runtime reads from src/ to dist/,
// keeping their paths. The Lua scripts and SQL migrations are not among
// them: they are built into modules (scripts/embed-sources.mjs).
import { cpSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ASSET = /\.(html|css|js|mjs)$/;
const root = new URL("..", import.meta.url).pathname;

function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name) && !name.endsWith(".d.ts")) {
      const rel = relative(join(root, "src"), path);
      cpSync(path, join(root, "dist", rel));
    }
  }
}

copy(join(root, "src"));
