/**
 * @module cli/run
 * What the `sheppy` bin runs (see `main.ts`). Parses the command line, runs the command, and turns any
 * error into one line on stderr with a non-zero exit code (a stack trace only
 * with `--log-level debug`).
 */
import { flushTracing } from "../observability/tracing.js";
import { wantsStacks } from "./env.js";
import { buildProgram } from "./program.js";
import { EXIT, reportError } from "./report-error.js";

// A reader that stops early (`sheppy --help | head`) closes the pipe: the output is no longer
// wanted, which is not an error of the command's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? EXIT.ok);
    throw error;
  });
}

const program = buildProgram();
let code: number = EXIT.ok;
try {
  await program.parseAsync(process.argv);
} catch (error) {
  code = reportError(error, wantsStacks(program.opts<{ logLevel?: string }>().logLevel));
}
// A command that added tasks made `send` spans the application's SDK may still hold in a batch:
// a process that ends without handing them over leaves the workers' spans pointing at a
// parent that never arrives.
await flushTracing(1500);
process.exitCode = code;
// Open handles (a driver's socket, a timer in user code) must not keep a finished command alive;
// the timer is unref'd, so a clean process exits at once without it.
setTimeout(() => process.exit(code), 2000).unref();
