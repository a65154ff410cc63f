// Copies the non-TypeScript files the runtime reads (Lua scripts, SQL
// migrations, dashboard assets) from src/ to dist/, keeping their paths.
import { cpSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ASSET = /\.(lua|sql|html|css|js|mjs)$/;
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
