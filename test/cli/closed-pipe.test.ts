/**
 * A reader that stops early (`sheppy --help | head -1`) closes the pipe the
 * CLI writes to: the command ends quietly, with no stack trace of the
 * broken pipe.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, ROOT } from "../support/cli.js";

describe("output into a pipe its reader closed", () => {
  it("help piped into a reader that has already exited ends without an error", () => {
    // `true` exits before the CLI has started, so its first write meets a closed pipe (EPIPE).
    const run = spawnSync(
      "bash",
      [
        "-c",
        `set -o pipefail; "${process.execPath}" "${BIN}" dashboard --help | true; echo "rc=$?"`,
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("rc=0");
  });
});
