/**
 * @module cli/url-in-arguments
 * A backend URL given on the command line is in the process's arguments,
 * which every user of the machine can read (`ps`, `/proc/<pid>/cmdline`) for
 * as long as the command runs — a worker or a dashboard runs for weeks. The
 * CLI masks the password in everything it prints, but cannot take it out of
 * its own arguments, so it says so once and names the variable that keeps
 * it private.
 */
import type { Command } from "commander";
import { warn } from "./warn.js";

export function warnIfPasswordInArguments(command: Command): void {
  if (command.getOptionValueSource("backendUrl") !== "cli") return;
  const url = command.opts<{ backendUrl?: string }>().backendUrl;
  if (url === undefined || !hasPassword(url)) return;
  warn(
    "the backend URL given with --backend-url holds a password, which other users of this machine can read in the process list while the command runs; give the URL in SHEPPY_BACKEND_URL instead",
  );
}

function hasPassword(url: string): boolean {
  try {
    const parsed = new URL(url.trim());
    // Both forms the backends take: redis://:pw@host and redis://host?password=pw.
    return parsed.password !== "" || (parsed.searchParams.get("password") ?? "") !== "";
  } catch {
    // A URL that does not parse is refused later, in its own words.
    return false;
  }
}
