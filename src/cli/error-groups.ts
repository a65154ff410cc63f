/**
 * @module cli/error-groups
 * `sheppy task list --group-by error`: the listed tasks counted by name and
 * error — its type and the first line of its message — most first, for an
 * operator who needs to know which failures a burst is made of before
 * choosing what to retry (`task retry --all-failed -n … --error …`).
 */
import type { TaskData } from "../task/task-record.js";
import { type Column, formatInstant } from "./output.js";

/** Tasks of one name that ended with one error. */
export interface ErrorGroup {
  readonly name: string;
  /** `Type: first line of the message`; `-` for tasks without an error. */
  readonly error: string;
  readonly count: number;
  /** When the newest of them ended (or, unfinished, was created). */
  readonly last: string | null;
  /** The newest of them, to look at with `task info`. */
  readonly example: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Characters of a message's first line kept in a group's key and cell. */
const MESSAGE_SHOWN = 120;

/** A record's error as one short line. */
function errorLine(task: TaskData): string {
  if (task.error === null) return "-";
  // One line of the table whatever the record holds: a message's first line, control characters as spaces.
  const first = String(task.error.message)
    .split(/\r\n|\r|\n/, 1)[0]!
    .replace(CONTROL, " ")
    .trim();
  const cut = first.length > MESSAGE_SHOWN ? `${first.slice(0, MESSAGE_SHOWN)}…` : first;
  const type = String(task.error.type).replace(CONTROL, " ");
  return cut === "" ? type : `${type}: ${cut}`;
}

/** `newestFirst` counted by name and error, most first (ties: the most recent first). */
export function groupByError(newestFirst: readonly TaskData[]): ErrorGroup[] {
  const groups = new Map<string, { group: ErrorGroup; order: number }>();
  newestFirst.forEach((task, order) => {
    const error = errorLine(task);
    const key = JSON.stringify([task.name, error]);
    const found = groups.get(key);
    if (found) {
      groups.set(key, { ...found, group: { ...found.group, count: found.group.count + 1 } });
      return;
    }
    const last = task.finishedAt ?? task.createdAt;
    groups.set(key, { group: { name: task.name, error, count: 1, last, example: task.id }, order });
  });
  return [...groups.values()]
    .sort((a, b) => b.group.count - a.group.count || a.order - b.order)
    .map(({ group }) => group);
}

export const ERROR_GROUP_COLUMNS: readonly Column<ErrorGroup>[] = [
  { heading: "COUNT", value: (group) => String(group.count) },
  { heading: "NAME", value: (group) => group.name },
  { heading: "ERROR", value: (group) => group.error },
  { heading: "LAST", value: (group) => formatInstant(group.last) },
  { heading: "EXAMPLE", value: (group) => group.example },
];
