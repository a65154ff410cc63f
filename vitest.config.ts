import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

// Tests import "sheppy" exactly as users do; here it resolves to the sources.
const alias = [
  { find: /^sheppy\/testing$/, replacement: src("testing/index.ts") },
  { find: /^sheppy\/backend$/, replacement: src("backend-kit/index.ts") },
  { find: /^sheppy\/backend\/contract$/, replacement: src("backend-kit/contract.ts") },
  { find: /^sheppy\/http$/, replacement: src("http/index.ts") },
  { find: /^sheppy\/backends\/([a-z]+)$/, replacement: src("backends/$1/index.ts") },
  { find: /^sheppy$/, replacement: src("index.ts") },
];

// `expect.poll` waits for what a loaded machine may take seconds to show (vitest's default: 1 s).
const expectOptions = { poll: { timeout: 15_000, interval: 50 } };

// Unit files that set process-wide state (a global tracer, a loaded copy's mark, modules loaded
// afresh), or check
// what it is in a process no other file has touched (no tracer, no task defined).
const OWN_MODULES = [
  "test/unit/tracing.test.ts",
  "test/unit/tracing-faulty.test.ts",
  "test/unit/tracing-throwing-spans.test.ts",
  "test/unit/tracing-off.test.ts",
  "test/unit/two-copies.test.ts",
  "test/unit/test-clock-fake-timers.test.ts",
  "test/unit/worker-without-tasks.test.ts",
];

export default defineConfig({
  resolve: { alias },
  test: {
    // Most files spend their time waiting on servers, child processes and timers rather than
    // on the CPU, so three run side by side on two cores (vitest's default would be one).
    maxWorkers: 3,
    projects: [
      {
        // Unit files share one module graph per worker instead of loading Sheppy afresh for each
        // of them (80 s → 33 s): the files that check process-wide state — the task registry, a
        // global tracer, a second copy's mark — run in the project below, each with its own.
        resolve: { alias },
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          exclude: OWN_MODULES,
          isolate: false,
          expect: expectOptions,
        },
      },
      {
        resolve: { alias },
        test: { name: "unit-own-modules", include: OWN_MODULES, expect: expectOptions },
      },
      {
        resolve: { alias },
        test: {
          name: "contract",
          expect: expectOptions,
          include: ["test/contract/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          expect: expectOptions,
          include: ["test/backends/**/*.test.ts"],
          testTimeout: 90_000,
          hookTimeout: 30_000,
        },
      },
      {
        // Spawns the built CLI (dist/cli/main.js): `npm test` builds before vitest runs.
        resolve: { alias },
        test: {
          name: "cli",
          expect: expectOptions,
          include: ["test/cli/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Drives Debian's Chromium against a running `sheppy dashboard` (built CLI).
        resolve: { alias },
        test: {
          name: "browser",
          expect: expectOptions,
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "types",
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ["test/types/**/*.test-d.ts"],
            tsconfig: "./tsconfig.json",
          },
        },
      },
    ],
  },
});
