/** Child processes for multi-process tests: spawn a TypeScript entry file, wait for a line, kill. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `node --import tsx <file>` from the repository root with extra environment variables. */
export function spawnTs(file: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.setEncoding("utf8");
  child.stdout?.setEncoding("utf8");
  return child;
}

/** Resolves when the child prints a line containing `text`; rejects if it exits first or `ms` pass. */
export function waitForOutput(child: ChildProcess, text: string, ms = 40_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`no '${text}' within ${ms} ms; output: ${seen}`)),
      ms,
    );
    const onData = (chunk: string) => {
      seen += chunk;
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: string) => {
      seen += chunk;
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before printing '${text}': ${seen}`));
    });
  });
}

/** Resolves with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
}

/** What a child process printed, and how it ended. */
export interface ChildOutput {
  readonly code: number | NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Everything `child` prints on stdout and stderr, and its exit code (or the
 * signal that ended it), once its output streams have closed — after `exit`
 * the last of its output may still be unread.
 */
export function outputOf(child: ChildProcess): Promise<ChildOutput> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code: code ?? signal, stdout, stderr }));
  });
}

/** Worker processes started from one fixture, and everything they printed since they were ready. */
export interface WorkerProcesses {
  readonly children: ChildProcess[];
  output(): string;
}

/**
 * Starts `count` processes of the fixture `file` with `env`, each added to
 * `registry` (for the file's cleanup), and waits until each printed "ready";
 * what they print from then on is kept, tagged by pid, for failure messages.
 */
export async function startWorkerProcesses(
  file: string,
  env: Record<string, string>,
  count: number,
  registry: ChildProcess[],
): Promise<WorkerProcesses> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawnTs(file, env);
    registry.push(child);
    children.push(child);
  }
  await Promise.all(children.map((child) => waitForOutput(child, "ready", 30_000)));
  let output = "";
  for (const child of children) {
    const tag = (chunk: string) => {
      output += `[${child.pid}] ${chunk}`;
    };
    child.stdout?.on("data", tag);
    child.stderr?.on("data", tag);
  }
  return { children, output: () => output };
}
