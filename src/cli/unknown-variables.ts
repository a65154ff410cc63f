/**
 * @module cli/unknown-variables
 * A `SHEPPY_*` variable that no command reads changes nothing, and nothing
 * says so: a misspelt one (`SHEPPY_CONCURRENCY` for
 * `SHEPPY_MAX_CONCURRENT_TASKS`) would leave a worker at its default with no
 * sign. The CLI names each such variable once, with the one it most likely
 * stands for: the variable of the flag it spells (`--concurrency`), or a
 * known variable a letter or two away.
 */
import { likelyMeant } from "../util/likely-meant.js";
import { SETTINGS } from "./env.js";
import { warn } from "./warn.js";

/** Variables read outside the settings table: the dashboard's login. */
const LOGIN_VARIABLES = ["SHEPPY_DASHBOARD_USER", "SHEPPY_DASHBOARD_PASSWORD"];

const PREFIX = "SHEPPY_";

/** Every `SHEPPY_*` variable some command reads. */
export function knownVariables(): string[] {
  return [...Object.values(SETTINGS).map((setting) => setting.env), ...LOGIN_VARIABLES];
}

/** A setting's variable by its flag's long name (`concurrency` → `SHEPPY_MAX_CONCURRENT_TASKS`). */
function variablesByFlag(): Map<string, string> {
  const byFlag = new Map<string, string>();
  for (const { flags, env } of Object.values(SETTINGS)) {
    const long = /--([a-z0-9-]+)/.exec(flags)?.[1];
    if (long !== undefined) byFlag.set(long, env);
  }
  return byFlag;
}

/** The known variable an unknown `name` most likely stands for, if any. */
export function variableMeant(name: string): string | undefined {
  const spelledFlag = name.slice(PREFIX.length).toLowerCase().replaceAll("_", "-");
  return variablesByFlag().get(spelledFlag) ?? likelyMeant(name, knownVariables());
}

/** Warns about each `SHEPPY_*` variable of `env` that no command reads. */
export function warnAboutUnknownVariables(env: NodeJS.ProcessEnv = process.env): void {
  const known = new Set(knownVariables());
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(PREFIX) || known.has(name)) continue;
    const meant = variableMeant(name);
    warn(
      `${name} is set, but sheppy reads no variable of that name, so it changes nothing${meant === undefined ? "" : ` (did you mean ${meant}?)`}`,
    );
  }
}
