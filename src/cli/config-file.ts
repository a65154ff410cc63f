/**
 * @module cli/config-file
 * The task modules a config file lists. `sheppy.config.json` (or `--config`)
 * is the file whose `crons` the worker reconciles; `sheppy work` also reads
 * its `tasks` — module paths relative to the file — when neither `--tasks`
 * nor `SHEPPY_TASKS` is given:
 *
 * ```json
 * { "tasks": ["./src/tasks.ts"], "crons": [{ "task": "report", "expression": "0 9 * * 1-5" }] }
 * ```
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CliUsageError } from "../errors.js";
import { joinLines } from "./output.js";

/** The `tasks` of the file at `path` as absolute paths; `[]` when the file or the field is absent. */
export async function taskModulesFromConfig(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new CliUsageError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(
      `config file ${path} is not valid JSON (${joinLines((error as Error).message)})`,
    );
  }
  const tasks = (raw as { tasks?: unknown } | null)?.tasks;
  if (tasks === undefined) return [];
  if (!Array.isArray(tasks) || !tasks.every((item) => typeof item === "string" && item !== "")) {
    throw new CliUsageError(`config file ${path}: "tasks" must be a list of module paths`);
  }
  return tasks.map((item: string) => resolve(dirname(resolve(path)), item));
}
