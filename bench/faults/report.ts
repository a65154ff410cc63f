/**
 * What one run of a scenario measured, and how runs are printed: a block of
 * figures per run, and one Markdown table row per scenario (several runs
 * summed, recovery times as median and range), so a bad figure in any run
 * stays visible in the table.
 */
import { median } from "../stats.js";

export interface RunResult {
  added: number;
  completed: number;
  statuses: Record<string, number>;
  /** Added but missing, or never finished. */
  lost: number;
  lostSample: string[];
  /** Tasks whose function ran more than once, and how many of those had two runs at once. */
  runTwice: number;
  overlapped: number;
  /**
   * Adds made while the fault lasted: acknowledged, refused (with why), refused
   * although the server stored them, acknowledged but not stored afterwards.
   */
  faultAdds?: {
    tried: number;
    acknowledged: number;
    refused: number;
    refusedButStored?: number;
    lost: number;
    why: string;
  };
  /** The scenario's recovery time (its definition is the scenario's), ms; null when there was none to measure. */
  recoverMs: number | null;
  /** More figures, by label. */
  figures: [string, string | number][];
  /** Expectations this run broke: each one is a finding to report. */
  findings: string[];
}

export interface Scenario {
  name: string;
  /** One line: what the scenario does. */
  what: string;
  /** What "time to recover" means here. */
  recovery: string;
  /** Default number of runs. */
  runs?: number;
  run(flags: Flags, runIndex: number): Promise<RunResult>;
}

export type Flags = ReadonlyMap<string, string>;

/** A numeric flag, or its default. */
export function flag(flags: Flags, name: string, fallback: number): number {
  const value = flags.get(name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`--${name} must be a number (got ${value})`);
  return number;
}

/** Short times in ms, so that a few milliseconds do not print as 0.00 s. */
const seconds = (ms: number) => (ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);

export function printRun(scenario: Scenario, index: number, r: RunResult): void {
  console.log(`\n### ${scenario.name} — run ${index + 1}`);
  const statuses = Object.entries(r.statuses)
    .map(([status, n]) => `${status} ${n}`)
    .join(", ");
  const lines: [string, string | number][] = [
    ["tasks added", r.added],
    ["tasks completed", r.completed],
    ["final statuses", statuses || "—"],
    [
      "tasks lost",
      `${r.lost}${r.lostSample.length ? ` (e.g. ${r.lostSample.join(", ")})` : ""}${r.faultAdds?.refused ? " (refused adds not counted)" : ""}`,
    ],
    ["tasks run twice", r.runTwice],
    ["  of which two runs overlapped", r.overlapped],
  ];
  if (r.faultAdds) {
    const a = r.faultAdds;
    lines.push([
      "adds during the fault",
      `${a.tried} tried, ${a.acknowledged} acknowledged, ${a.refused} refused${a.why ? ` (${a.why})` : ""}${a.refusedButStored ? ` of which ${a.refusedButStored} stored all the same` : ""}, acknowledged but lost: ${a.lost}`,
    ]);
  }
  lines.push([
    "time to recover",
    `${r.recoverMs === null ? "—" : seconds(r.recoverMs)}  (${scenario.recovery})`,
  ]);
  lines.push(...r.figures);
  for (const [label, value] of lines) console.log(`${label.padEnd(34)} ${value}`);
  for (const finding of r.findings) console.log(`FINDING: ${finding}`);
}

/** One table row per scenario, over all its runs. */
export function tableRow(scenario: Scenario, runs: readonly RunResult[], rerun: string): string {
  const sum = (pick: (r: RunResult) => number) => runs.reduce((total, r) => total + pick(r), 0);
  const per = runs.length > 1 ? ` (${runs.length} runs)` : "";
  const tasks = `${sum((r) => r.added)} added, ${sum((r) => r.completed)} completed${per}`;
  const ackLost = runs.some((r) => r.faultAdds)
    ? `; acknowledged adds lost: ${sum((r) => r.faultAdds?.lost ?? 0)} of ${sum((r) => r.faultAdds?.acknowledged ?? 0)}`
    : "";
  const twice = `${sum((r) => r.runTwice)} (overlapping: ${sum((r) => r.overlapped)})`;
  const times = runs.map((r) => r.recoverMs).filter((ms): ms is number => ms !== null);
  const recover =
    times.length === 0
      ? "—"
      : times.length === 1
        ? seconds(times[0]!)
        : `median ${seconds(median(times))} (${seconds(Math.min(...times))}–${seconds(Math.max(...times))})`;
  const cells = [
    `\`${scenario.name}\``,
    scenario.what,
    tasks,
    `${sum((r) => r.lost)}${ackLost}`,
    twice,
    `${recover}: ${scenario.recovery}`,
    `\`${rerun}\``,
  ];
  return `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
}

export const TABLE_HEAD = [
  "| scenario | what it does | tasks | lost | run twice | time to recover | how to rerun |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];
