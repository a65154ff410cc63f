// Empties dist/ before a build, so a source file that was deleted or moved
// leaves no stale module, declaration or source map in the package.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
