/**
 * Fault campaign: runs Sheppy's Redis backend through faults — workers
 * SIGKILLed, the server restarted with and without persistence, connections
 * killed, the server paused or down for longer than a lease, out of memory,
 * its script cache flushed, thousands of waiters, hostile data — and
 * measures what each did to the tasks: lost, run twice (and whether two runs
 * overlapped), acknowledged adds lost, and the time to recover.
 *
 *   npm run faults -- <scenario> [--runs N] [--seed N] [--tasks N] …
 *   npm run faults -- all          every scenario once, then a Markdown table
 *
 * A measurement tool, not a test: it reports what it sees, and prints a
 * FINDING line for each expectation a run broke. Every scenario that stops,
 * pauses, fills or disconnects a server does it to a private redis-server of
 * its own (see ./faults/private-server.ts); the shared one is never touched.
 */
import { cleanUpOnExit } from "./faults/cleanup.js";
import {
  type Flags,
  printRun,
  type RunResult,
  type Scenario,
  TABLE_HEAD,
  tableRow,
} from "./faults/report.js";
import { scenarios } from "./faults/scenarios/index.js";

function parseArgs(argv: readonly string[]): { name: string | undefined; flags: Flags } {
  const flags = new Map<string, string>();
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--")) {
      const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
      const value = inline ?? argv[i + 1];
      if (value === undefined || (inline === undefined && value.startsWith("--"))) {
        throw new Error(`--${key} needs a value`);
      }
      if (inline === undefined) i++;
      flags.set(key, value);
    } else if (name === undefined) name = arg;
    else throw new Error(`unexpected argument '${arg}'`);
  }
  return { name, flags };
}

function usage(): string {
  return [
    "usage: npm run faults -- <scenario|all> [--runs N] [--seed N] [other flags of the scenario]",
    "scenarios:",
    ...scenarios.map((s) => `  ${s.name.padEnd(16)} ${s.what}`),
  ].join("\n");
}

/** The command that reruns `scenario` as it was run now. */
function rerun(scenario: Scenario, runs: number, flags: Flags): string {
  const extra = [...flags].filter(([key]) => key !== "runs").map(([k, v]) => ` --${k} ${v}`);
  return `npm run faults -- ${scenario.name}${runs > 1 ? ` --runs ${runs}` : ""}${extra.join("")}`;
}

async function runScenario(scenario: Scenario, runs: number, flags: Flags): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const started = Date.now();
    console.log(`\n… ${scenario.name} run ${i + 1}/${runs}`);
    // Warnings Node raises in this process (the producer's and waiters' side) belong to the run's figures.
    const warnings = new Map<string, number>();
    const onWarning = (warning: Error) => {
      const text = `${warning.name}: ${warning.message.slice(0, 160)}`;
      warnings.set(text, (warnings.get(text) ?? 0) + 1);
    };
    process.on("warning", onWarning);
    const result = await scenario.run(flags, i).finally(() => process.off("warning", onWarning));
    if (warnings.size > 0) {
      result.figures.push([
        "Node warnings in the runner's process",
        [...warnings].map(([text, n]) => `${n}× ${text}`).join("; "),
      ]);
    }
    printRun(scenario, i, result);
    console.log(`(run took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    results.push(result);
  }
  return results;
}

async function main(): Promise<void> {
  cleanUpOnExit();
  const { name, flags } = parseArgs(process.argv.slice(2));
  const chosen = name === "all" ? scenarios : scenarios.filter((s) => s.name === name);
  if (!name || chosen.length === 0) {
    console.error(usage());
    process.exit(2);
  }
  const started = Date.now();
  const rows: string[] = [];
  let broken = 0;
  for (const scenario of chosen) {
    const runs = name === "all" ? 1 : Number(flags.get("runs") ?? scenario.runs ?? 1);
    try {
      const results = await runScenario(scenario, runs, flags);
      rows.push(tableRow(scenario, results, rerun(scenario, runs, flags)));
      broken += results.reduce((n, r) => n + r.findings.length, 0);
    } catch (error) {
      // One scenario failing to run must not hide the others' figures.
      console.error(`\n${scenario.name} could not complete:`, error);
      rows.push(
        `| \`${scenario.name}\` | ${scenario.what} | did not complete: ${String(error).split("\n")[0]} | | | | |`,
      );
      broken++;
    }
  }
  console.log(`\n## Fault campaign — ${new Date().toISOString()}\n`);
  for (const line of [...TABLE_HEAD, ...rows]) console.log(line);
  console.log(
    `\n${broken} finding(s); campaign took ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  process.exit(0);
}

await main();
