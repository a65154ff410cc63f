/**
 * @module backends/redis/scripts
 * The Lua scripts (one file each in `./scripts`): run by SHA, sent whole
 * when the server does not have them (first use, after a restart empties
 * its script cache); also registered with `defineCommand` for pipelines.
 * A line `--@include <name>` in a script is replaced by
 * `./scripts/lib/<name>.lua`, so helpers several scripts need (status
 * counters, fences) are written once.
 */
import { createHash } from "node:crypto";
import { loadIoredis, type RedisClient } from "./connections.js";
import { type LibraryPiece, libraryPieces, neededFunctions } from "./library-pieces.js";
import { SCRIPT_FILES } from "./script-files.embedded.js";

const SCRIPTS = {
  add: 9,
  addDeduplicated: 10,
  claim: 6,
  settle: 12,
  promoteDue: 3,
  cancel: 10,
  deleteTask: 4,
  renew: 1,
  reclaim: 3,
  clear: 18,
  rateLimit: 3,
  pruneExpired: 4,
  pruneDedupe: 3,
  addWorkflow: 7,
  cancelWorkflow: 10,
  retryWorkflow: 9,
  deleteWorkflow: 3,
  pruneWorkflows: 2,
  listTasks: 2,
  migrateIndex: 2,
  pause: 3,
  concurrencyCap: 3,
  claimable: 1,
  saveProgress: 1,
  claimLeases: 1,
  announceWorker: 2,
  listWorkers: 2,
  withdrawWorker: 2,
  appendEvents: 3,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** A client with the scripts as commands: `client.sheppy_claim(...keys, ...args)`. */
export type ScriptRunner = (
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

/**
 * The key every script call names last, which nothing ever writes:
 * `{<prefix>:<queue>}:moving`. While Redis Cluster moves a queue's slot to
 * another node (resharding), a call naming a key the node does not hold is
 * refused before it runs — redirected, then told to try again until the move
 * ends — and the cluster client sends it again. A script also reads and
 * writes task records whose keys it builds from ids; a call whose named keys
 * had not moved yet would run, and be refused halfway at the first record
 * that had, keeping what it wrote before. A key that is always missing makes
 * every call wait out the move instead, so no script ever runs halfway.
 */
export function movingProbeKey(firstKey: string): string {
  const tagEnd = firstKey.indexOf("}");
  if (!firstKey.startsWith("{") || tagEnd < 0) {
    throw new Error(`script key ${firstKey} carries no queue hash tag`);
  }
  return `${firstKey.slice(0, tagEnd + 1)}:moving`;
}

/** How many replicas must confirm a script's writes, and how long to wait for them (ms). */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/**
 * Runs a script and then `WAIT` on the same connection, in one round trip
 * (on a cluster, the pipeline goes to the master of the script's slot, the
 * one whose replicas WAIT counts). Returns the script's answer and how many
 * replicas had its writes when WAIT answered.
 */
export async function runAndWait(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
  wait: ReplicaWait,
): Promise<[unknown, number]> {
  const pipeline = client.pipeline();
  const queued = pipeline as unknown as Record<string, (...args: (string | number)[]) => unknown>;
  queued[`sheppy_${name}`]!(...keys, movingProbeKey(keys[0]!), ...args);
  pipeline.wait(wait.replicas, wait.timeoutMs);
  const [[scriptError, answer], [waitError, confirmed]] = (await pipeline.exec()) as [
    [Error | null, unknown],
    [Error | null, number],
  ];
  if (scriptError) throw scriptError;
  if (waitError) throw waitError;
  return [answer, confirmed];
}

const fileOf = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const read = (path: string): string => {
  const text = SCRIPT_FILES[path];
  if (text === undefined) throw new Error(`no Redis script ${path} in this build of sheppy`);
  return text;
};

/**
 * A script's source with its `--@include` lines replaced by the library files
 * they name, less the library functions nothing in the script calls: a script
 * defines its helpers anew on every call, and each definition costs the
 * server time (see `./library-pieces.ts`).
 */
export function scriptSource(name: ScriptName): string {
  const own = read(`${fileOf(name)}.lua`);
  const libs = new Map<string, LibraryPiece[]>();
  for (const [, lib] of own.matchAll(/^--@include ([\w-]+)$/gm)) {
    libs.set(lib!, libraryPieces(read(`lib/${lib}.lua`)));
  }
  const needed = neededFunctions(own, [...libs.values()].flat());
  return own.replace(/^--@include ([\w-]+)$/gm, (_, lib: string) =>
    libs
      .get(lib)!
      .filter((piece) => piece.name === null || needed.has(piece.name))
      .map((piece) => piece.text)
      .join("\n")
      .trimEnd(),
  );
}

let sources: Map<ScriptName, string> | undefined;

function loadSources(): Map<ScriptName, string> {
  sources ??= new Map(
    (Object.keys(SCRIPTS) as ScriptName[]).map((name) => [name, scriptSource(name)]),
  );
  return sources;
}

let shas: Map<ScriptName, string> | undefined;

function shaOf(name: ScriptName): string {
  shas ??= new Map(
    [...loadSources()].map(([script, lua]) => [
      script,
      createHash("sha1").update(lua).digest("hex"),
    ]),
  );
  return shas.get(name)!;
}

type CommandClass = typeof import("ioredis").Command;
let commandClass: CommandClass | undefined;

/** ioredis's `Command`, from the driver the connections loaded. */
async function loadCommandClass(): Promise<CommandClass> {
  commandClass ??= (await loadIoredis()).Command;
  return commandClass;
}

/**
 * An `EVALSHA` (or `EVAL`) of a script as one ioredis command, its
 * arguments as the text Redis reads. They are set after the command is
 * made: its constructor copies them with `Array.prototype.flat`, which costs
 * about 0.1 µs per argument on Node 20 — a settle of a hundred tasks passes
 * over a thousand, a single add some thirty.
 */
function scriptCommand(
  Command: CommandClass,
  how: "evalsha" | "eval",
  script: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): InstanceType<CommandClass> {
  const command = new Command(how, [], { replyEncoding: "utf8" });
  const all = new Array<string>(3 + keys.length + args.length);
  all[0] = script;
  all[1] = String(keys.length + 1);
  let at = 2;
  for (const key of keys) all[at++] = key;
  all[at++] = movingProbeKey(keys[0]!);
  for (const arg of args) all[at++] = typeof arg === "string" ? arg : String(arg);
  command.args = all;
  return command;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.includes("NOSCRIPT");
}

/**
 * Registers every script on `client` (as commands, for pipelines) and
 * returns a typed runner. The runner sends each script by its SHA and, when
 * the server does not have it (a first call, a restart, `SCRIPT FLUSH`), by
 * its source; a script the server does not have has not run, so sending it
 * again is safe.
 */
export function defineScripts(client: RedisClient): ScriptRunner {
  for (const [name, lua] of loadSources()) {
    client.defineCommand(`sheppy_${name}`, { numberOfKeys: SCRIPTS[name] + 1, lua });
  }
  return async (name, keys, args) => {
    if (keys.length !== SCRIPTS[name]) {
      throw new Error(`script ${name} takes ${SCRIPTS[name]} keys, got ${keys.length}`);
    }
    const Command = commandClass ?? (await loadCommandClass());
    try {
      return await client.sendCommand(scriptCommand(Command, "evalsha", shaOf(name), keys, args));
    } catch (error) {
      if (!isNoScript(error)) throw error;
      const lua = loadSources().get(name)!;
      return client.sendCommand(scriptCommand(Command, "eval", lua, keys, args));
    }
  };
}
