/**
 * `sheppy work` refuses job processing off with a stop condition (`--oneshot`,
 * `--max-tasks`), given as flags or variables: such a worker would never exit;
 * and a metrics address without a metrics port, which would be ignored.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import { CliUsageError } from "../../src/errors.js";

function work(...args: string[]): Promise<unknown> {
  return buildProgram().parseAsync(["work", ...args], { from: "user" });
}

describe("sheppy work: conflicting options", () => {
  afterEach(() => vi.unstubAllEnvs());

  test.each([
    [
      ["--disable-job-processing", "--oneshot"],
      "--oneshot cannot be used with --disable-job-processing",
    ],
    [
      ["--disable-job-processing", "--max-tasks", "1"],
      "--max-tasks cannot be used with --disable-job-processing",
    ],
  ])("%j is refused", async (args, message) => {
    const attempt = work(...args);
    await expect(attempt).rejects.toThrow(CliUsageError);
    await expect(attempt).rejects.toThrow(message);
  });

  test("the variables are refused the same way, named as given", async () => {
    vi.stubEnv("SHEPPY_DISABLE_JOB_PROCESSING", "1");
    vi.stubEnv("SHEPPY_ONESHOT", "yes");
    await expect(work()).rejects.toThrow(
      "SHEPPY_ONESHOT (--oneshot) cannot be used with SHEPPY_DISABLE_JOB_PROCESSING (--disable-job-processing)",
    );
    vi.stubEnv("SHEPPY_ONESHOT", "false");
    vi.stubEnv("SHEPPY_MAX_TASKS", "3");
    await expect(work()).rejects.toThrow("SHEPPY_MAX_TASKS (--max-tasks) cannot be used");
  });

  test("the --metrics-host flag without a metrics port is refused; the variable alone is not (deployments set it for every process)", async () => {
    await expect(work("--metrics-host", "0.0.0.0")).rejects.toThrow(
      "--metrics-host needs --metrics-port (or SHEPPY_METRICS_PORT): without a port no metrics are served",
    );
    vi.stubEnv("SHEPPY_METRICS_HOST", "0.0.0.0");
    vi.stubEnv("SHEPPY_DISABLE_JOB_PROCESSING", "1");
    vi.stubEnv("SHEPPY_ONESHOT", "yes");
    // Past the metrics check: refused for the next conflict instead.
    await expect(work()).rejects.toThrow("SHEPPY_ONESHOT (--oneshot) cannot be used");
  });
});
