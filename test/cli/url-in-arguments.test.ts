/**
 * A backend URL with a password on the command line is readable by every
 * user of the machine in the process list: the CLI says so once on stderr
 * and names SHEPPY_BACKEND_URL; given in that variable, or without a
 * password, it says nothing.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

const WARNING =
  "warning: the backend URL given with --backend-url holds a password, which other users of this machine can read in the process list while the command runs; give the URL in SHEPPY_BACKEND_URL instead\n";
// Nothing listens on port 1: each command fails after the warning, with the password masked.
const WITH_PASSWORD = "redis://:s3cret@127.0.0.1:1/0";

describe("a password in --backend-url", () => {
  it("is warned about once, and never printed", async () => {
    for (const url of [WITH_PASSWORD, "redis://127.0.0.1:1/0?password=s3cret"]) {
      const result = await runCli(["queue", "list", "-u", url]);
      expect(result.code).toBe(1);
      expect(result.stderr.startsWith(WARNING), url).toBe(true);
      expect(result.stderr.split(WARNING)).toHaveLength(2);
      expect(result.stderr + result.stdout).not.toContain("s3cret");
    }
  });

  it("in SHEPPY_BACKEND_URL, or a URL without one, is not", async () => {
    for (const [args, env] of [
      [["queue", "list"], { SHEPPY_BACKEND_URL: WITH_PASSWORD }],
      [["queue", "list", "-u", "redis://127.0.0.1:1/0"], {}],
    ] as const) {
      const result = await runCli(args, env);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toContain("warning: the backend URL");
    }
  });
});
