/**
 * A queue's tasks, newest first, a page at a time from the server (the
 * cursor of each page is kept so Newer goes back), filtered by status and by
 * task name (a row's name narrows the list to it); search opens a task by its id. The first page follows finished tasks
 * live; later pages stay still while they are read.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type TaskPage, type TaskSummary } from "../api.js";
import { Pager, useCursors } from "../components/pager.js";
import { StatusBadge } from "../components/status-badge.js";
import { attemptOf, formatDuration, formatTime } from "../format.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

const PAGE_SIZE = 50;
/** Reads a filtered page may take to fill: each looks at a bounded stretch of the queue (5,000 tasks on the built-in backends). */
const MAX_READS = 50;

/**
 * A page of up to PAGE_SIZE tasks: the backend looks at a bounded stretch of
 * the queue per read, so a rare status can come back short or empty while
 * more lies further back; read on until the page is full, the queue ends, or
 * MAX_READS reads were made (then Older goes on from there).
 */
async function fillPage(
  queue: string,
  filter: { statuses: readonly string[]; names: readonly string[] },
  cursor: string | null,
): Promise<TaskPage> {
  const tasks: TaskSummary[] = [];
  let next = cursor;
  for (let reads = 0; reads < MAX_READS; reads++) {
    const page = await api.tasks(queue, filter, next, PAGE_SIZE - tasks.length);
    tasks.push(...page.tasks);
    next = page.cursor;
    if (next === null || tasks.length >= PAGE_SIZE) break;
  }
  return { tasks, cursor: next };
}
const STATUSES = [
  "pending",
  "scheduled",
  "processing",
  "retrying",
  "completed",
  "failed",
  "crashed",
  "cancelled",
];

export function TaskTable({
  queue,
  statuses,
  onStatuses,
  names,
  onNames,
  finishedRound,
}: {
  queue: string;
  statuses: readonly string[];
  onStatuses: (statuses: readonly string[]) => void;
  names: readonly string[];
  onNames: (names: readonly string[]) => void;
  finishedRound: number;
}) {
  // A new filter or queue starts again from the first page.
  const filterKey = `${queue}|${statuses.join(",")}|${names.join(",")}`;
  const cursors = useCursors("tasks", filterKey);
  const cursor = cursors.current;
  const key = `${filterKey}|${cursor ?? ""}`;
  const page = useLoad(() => fillPage(queue, { statuses, names }, cursor), key);
  const [search, setSearch] = useState("");

  // Live: the first page reads again when tasks finish, at most every 2 s.
  const lastReload = useRef(0);
  // reacts to finished tasks only
  useEffect(() => {
    if (finishedRound === 0 || cursors.page > 1) return;
    const wait = Math.max(0, lastReload.current + 2000 - Date.now());
    const timer = setTimeout(() => {
      lastReload.current = Date.now();
      page.reload();
    }, wait);
    return () => clearTimeout(timer);
  }, [finishedRound]);

  const toggle = (status: string) =>
    onStatuses(
      statuses.includes(status) ? statuses.filter((s) => s !== status) : [...statuses, status],
    );

  return (
    <div>
      <div class="toolbar">
        <fieldset class="chips" aria-label="filter by status">
          {STATUSES.map((status) => (
            <button
              type="button"
              key={status}
              class={statuses.includes(status) ? "chip on" : "chip"}
              aria-pressed={statuses.includes(status)}
              data-filter={status}
              onClick={() => toggle(status)}
            >
              {status}
            </button>
          ))}
          {statuses.length > 0 && (
            <button type="button" class="chip clear" onClick={() => onStatuses([])}>
              all
            </button>
          )}
          {names.map((name) => (
            <button
              type="button"
              key={`name:${name}`}
              class="chip on"
              data-name-chip={name}
              title="show every task name again"
              onClick={() => onNames(names.filter((n) => n !== name))}
            >
              {name} ✕
            </button>
          ))}
        </fieldset>
        <form
          class="search"
          onSubmit={(event) => {
            event.preventDefault();
            const id = search.trim();
            if (id) location.hash = href({ view: "task", queue, id });
          }}
        >
          <input
            type="search"
            placeholder="a task's full id"
            aria-label="find a task by id"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
          <button type="submit">Open</button>
        </form>
      </div>
      {page.error && <p class="problem">Could not read the tasks: {page.error.message}</p>}
      <table class="table" data-testid="tasks">
        <thead>
          <tr>
            <th>id</th>
            <th>task</th>
            <th>status</th>
            <th class="num">priority</th>
            <th>created (UTC)</th>
            <th>finished (UTC)</th>
            <th class="num">attempt</th>
            <th>took</th>
          </tr>
        </thead>
        <tbody>
          {page.data?.tasks.map((task) => (
            <TaskRow
              key={task.id}
              queue={queue}
              task={task}
              onName={names.includes(task.name) ? undefined : () => onNames([...names, task.name])}
            />
          ))}
        </tbody>
      </table>
      {page.data && page.data.tasks.length === 0 && (
        <p class="muted">
          {page.data.cursor
            ? "No task matches in this stretch of the queue; Older looks further back."
            : "No task matches."}
        </p>
      )}
      <Pager cursors={cursors} next={page.data?.cursor} labels={["← Newer", "Older →"]} />
    </div>
  );
}

function TaskRow({
  queue,
  task,
  onName,
}: {
  queue: string;
  task: TaskSummary;
  /** Narrows the list to this task's name; absent when it is narrowed to it already. */
  onName: (() => void) | undefined;
}) {
  return (
    <tr data-task-id={task.id}>
      <td>
        <a href={href({ view: "task", queue, id: task.id })}>
          <code>{task.id}</code>
        </a>
      </td>
      <td>
        {onName ? (
          <button
            type="button"
            class="link"
            data-name-filter={task.name}
            title="show only tasks of this name"
            onClick={onName}
          >
            {task.name}
          </button>
        ) : (
          task.name
        )}
      </td>
      <td>
        <StatusBadge status={task.status} />
      </td>
      <td class="num" data-column="priority">
        {task.priority}
      </td>
      <td>{formatTime(task.createdAt)}</td>
      <td>{formatTime(task.finishedAt)}</td>
      <td class="num">{attemptOf(task)}</td>
      <td>{formatDuration(task.startedAt, task.finishedAt)}</td>
    </tr>
  );
}
