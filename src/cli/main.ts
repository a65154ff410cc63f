#!/usr/bin/env node
/**
 * @module cli/main
 * The `sheppy` bin. Source maps are turned on before anything else is
 * loaded (a module's map is read when the module is), so the stacks that
 * `--log-level debug` prints name Sheppy's TypeScript sources, shipped
 * beside `dist/`; then the command runs (`run.ts`).
 */
process.setSourceMapsEnabled(true);
await import("./run.js");
