/**
 * @module worker/cron-config
 * Reads the declared-cron config file (the Worker's `configFile`; `sheppy
 * work` passes `sheppy.config.json` in the working directory, or `--config`):
 *
 * ```json
 * { "crons": [{ "task": "send-report", "expression": "0 9 * * 1-5", "args": ["daily"], "queue": "reports" }] }
 * ```
 *
 * An entry has `expression` (cron text, with an optional IANA `timezone`) or
 * `every` (seconds), never both.
 *
 * A missing or unreadable file, text that is not JSON, a top level that is not
 * an object, or `crons` that is not a list make the whole file unusable
 * (`missing` / `broken`): the caller changes nothing. A file without `crons`
 * declares none. A bad entry is skipped on its own, with a problem line, and
 * the rest apply. Only the shape and the expression are checked here; whether
 * the task exists is the reconciler's business (it depends on the process).
 */

import { readFile } from "node:fs/promises";
import { CronExpressionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { parseCronSchedule } from "../queue/cron-schedule.js";
import { canonicalJson } from "../util/canonical-json.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";

/** One usable entry of the file. */
export interface CronDeclaration {
  /** Position in `crons`, for log lines. */
  readonly index: number;
  /** Registered task name. */
  readonly task: string;
  /** The expression, checked and whitespace normalised; absent for an interval. */
  readonly expression?: string;
  /** The interval in seconds, when the entry gives `every` instead of an expression. */
  readonly every?: number;
  /** The IANA zone of the expression, canonical spelling; absent for UTC. */
  readonly timezone?: string;
  readonly args: JsonValue[];
  /** Target queue; `null`: the worker's only queue (skipped by a worker serving several). */
  readonly queue: string | null;
  /** The entry's identity as written (task, schedule, args, queue), stored on the crons it creates. */
  readonly key: string;
}

/** What reading the file gave. */
export type CronConfig =
  | { readonly kind: "missing"; readonly message: string }
  | { readonly kind: "broken"; readonly message: string }
  | {
      readonly kind: "ok";
      readonly declarations: readonly CronDeclaration[];
      /** One line per skipped entry. */
      readonly problems: readonly string[];
    };

const FIELDS = ["task", "expression", "every", "timezone", "args", "queue"];
/** The file's keys: its crons, the task modules `sheppy work` reads, and an editor's schema. */
const TOP_LEVEL_KEYS = ["crons", "tasks", "$schema"];

/** Reads and parses the file at `path`. Never throws. */
export async function readCronConfig(path: string): Promise<CronConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return {
        kind: "missing",
        message: `no cron config file at ${path}; declared crons left unchanged`,
      };
    }
    return {
      kind: "broken",
      message: `cannot read cron config file ${path} (${code ?? String(error)}); declared crons left unchanged`,
    };
  }
  return parseCronConfig(text, path);
}

/** Parses the file's text; `path` only names the file in messages. */
export function parseCronConfig(text: string, path: string): CronConfig {
  const broken = (why: string): CronConfig => ({
    kind: "broken",
    message: `cron config file ${path} ${why}; declared crons left unchanged`,
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return broken(`is not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return broken("must hold a JSON object");
  }
  // A misspelt `crons` would read as a file that declares none, and every declared cron would go.
  const unknownKey = unknownKeysMessage(raw, TOP_LEVEL_KEYS, "key", "keys");
  if (unknownKey !== null) return broken(`has an ${unknownKey}`);
  const crons = (raw as { crons?: unknown }).crons;
  if (crons === undefined) return { kind: "ok", declarations: [], problems: [] };
  if (!Array.isArray(crons)) return broken(`has 'crons' that is not a list`);
  const declarations: CronDeclaration[] = [];
  const problems: string[] = [];
  crons.forEach((entry: unknown, index) => {
    const checked = checkEntry(entry, index);
    if (typeof checked === "string") problems.push(`${path}: crons[${index}] skipped: ${checked}`);
    else declarations.push(checked);
  });
  return { kind: "ok", declarations, problems };
}

/** The declaration, or why the entry is skipped. */
function checkEntry(entry: unknown, index: number): CronDeclaration | string {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return "an entry must be an object with 'task' and 'expression'";
  }
  const e = entry as Record<string, unknown>;
  const unknown = unknownKeysMessage(e, FIELDS, "field", "fields");
  if (unknown !== null) return unknown;
  if (typeof e.task !== "string" || e.task.trim() === "") {
    return "'task' must be a registered task name";
  }
  if (e.expression !== undefined && e.every !== undefined) {
    return `task '${e.task}' has both 'expression' and 'every'; give one`;
  }
  if (e.expression === undefined && e.every === undefined) {
    return `task '${e.task}' needs 'expression' (cron text) or 'every' (seconds)`;
  }
  if (e.every === undefined && (typeof e.expression !== "string" || e.expression.trim() === "")) {
    return `'expression' of task '${e.task}' must be a non-empty cron expression`;
  }
  if (e.args !== undefined && !Array.isArray(e.args)) {
    return `'args' of task '${e.task}' must be a list`;
  }
  if (
    e.queue !== undefined &&
    e.queue !== null &&
    (typeof e.queue !== "string" || e.queue === "")
  ) {
    return `'queue' of task '${e.task}' must be a queue name`;
  }
  let schedule: { expression?: string; every?: number; timezone?: string };
  try {
    const input = e.every === undefined ? e.expression : { every: e.every };
    const options = e.timezone === undefined ? undefined : { timezone: e.timezone };
    const parsed = parseCronSchedule(input, options, `task '${e.task}'`);
    schedule =
      parsed.every !== null
        ? { every: parsed.every }
        : parsed.timezone === "UTC"
          ? { expression: parsed.expression! }
          : { expression: parsed.expression!, timezone: parsed.timezone! };
  } catch (error) {
    if (error instanceof CronExpressionError) return error.message;
    throw error;
  }
  const args = (e.args ?? []) as JsonValue[];
  const queue = (e.queue ?? null) as string | null;
  // Without `every` or a zone the key is what it was before those existed, so
  // crons declared by an older version are recognised as the same entry.
  const key = canonicalJson({ task: e.task, ...schedule, args, queue });
  return { index, task: e.task, ...schedule, args, queue, key };
}
