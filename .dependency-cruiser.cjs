/**
 * The layering check `npm test` runs (`npm run lint:layers`). Sheppy's source
 * is layered; a module may import its own layer and the layers below it,
 * never one above, and there are no import cycles (type-only imports count).
 *
 *   1 base       errors, json, clock, util/, observability/
 *   2 task       task definitions, records and their codec
 *   3 backends   the backend contract and the backends: they only store
 *   4 execution  running one attempt, the attempt pipeline; events
 *   5 queue      the Queue, inline processing
 *   6 worker     the Worker and its loops
 *   7 http       the HTTP API (a fetch handler) and its adapters
 *   8 testing    TestQueue, TestClock
 *   9 entries    the package entry, the contract suite, the backend kit
 *  10 cli        the sheppy command
 */
const LAYERS = [
  ["base", "^src/(errors|json|clock)\\.ts$|^src/(util|observability)/"],
  ["task", "^src/task/"],
  ["backends", "^src/backends/"],
  ["execution", "^src/execution/|^src/events\\.ts$"],
  ["queue", "^src/queue/"],
  ["worker", "^src/worker/"],
  ["http", "^src/http/"],
  ["testing", "^src/testing/"],
  ["entries", "^src/index\\.ts$|^src/contract/|^src/backend-kit/"],
  ["cli", "^src/cli/"],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-import-above-${name}`,
  comment: `The ${name} layer may only import itself and the layers below it.`,
  severity: "error",
  from: { path },
  to: {
    path: LAYERS.slice(i + 1)
      .map(([, above]) => `(${above})`)
      .join("|"),
  },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Import cycles make load order matter and layers meaningless.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "every-module-has-a-layer",
      comment: "A source file outside every layer would escape the check.",
      severity: "error",
      from: {
        path: "^src/",
        pathNot: LAYERS.map(([, path]) => `(${path})`).join("|"),
      },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.(lua|sql|mjs)$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.build.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
