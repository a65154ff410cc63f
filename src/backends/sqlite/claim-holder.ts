/**
 * @module backends/sqlite/claim-holder
 * Which process holds a claim, and whether that process is gone. A SQLite
 * file is shared only by processes of one machine, so a worker can tell a
 * dead holder from a live one by looking, instead of waiting out its lease
 * and the confirmation window (about half a minute): an app restarted after
 * a crash takes its tasks back within one reclaim scan.
 *
 * A holder is `<boot id>:<pid namespace>:<pid>:<start time>` (Linux). It is
 * called gone only when all of that can be read and says so: the same boot
 * and pid namespace as this process (a container sharing the file, whose
 * pids this process cannot see, never counts), and no process with that pid
 * and start time (a pid reused by a new process does not keep the old one
 * alive). Anywhere else — another system, /proc unreadable — no holder is
 * recorded and claims are taken over by their lease alone.
 */
import { readFileSync, readlinkSync } from "node:fs";

/** A process's start time (clock ticks after boot), from `/proc/<pid>/stat`; `null`: no such process; `undefined`: unknown. */
function startTimeOf(pid: number): string | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? null : undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields count from its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Field 22 (starttime) is the 20th after the name.
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/** This machine's boot and this process's pid namespace: `boot:ns`, or `null` where they cannot be read. */
function machineOfThisProcess(): string | null {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const namespace = readlinkSync("/proc/self/ns/pid");
    if (boot === "" || namespace === "" || boot.includes(":")) return null;
    return `${boot}:${namespace.replace(/:/g, "")}`;
  } catch {
    return null;
  }
}

let own: string | null | undefined;

/** The holder this process records with its claims; `null` where it cannot tell (then none is recorded). */
export function thisProcessHolder(): string | null {
  if (own === undefined) {
    const machine = machineOfThisProcess();
    const start = machine === null ? undefined : startTimeOf(process.pid);
    own =
      machine === null || typeof start !== "string" ? null : `${machine}:${process.pid}:${start}`;
  }
  return own;
}

/** Whether the process `holder` names has ended, as far as this process can be sure; `false` when unsure. */
export function holderIsGone(holder: string): boolean {
  const mine = thisProcessHolder();
  if (mine === null || holder === mine) return false;
  const parts = holder.split(":");
  const ours = mine.split(":");
  if (parts.length !== 4 || parts[0] !== ours[0] || parts[1] !== ours[1]) return false;
  const pid = Number(parts[2]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const start = startTimeOf(pid);
  if (start === undefined) return false;
  return start === null || start !== parts[3];
}
