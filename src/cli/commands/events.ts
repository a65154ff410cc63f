/**
 * @module cli/commands/events
 * `sheppy events`: follows a queue's lifecycle events as the backend's
 * event log holds them — from now on, from the oldest it keeps (`--after
 * start`), or after an event's id (`--after <id>`, to carry on where an
 * earlier run stopped) — one line per event (`--format json`: one JSON
 * object per line), optionally of some types only (`--type`) or of some
 * tasks only (`--task`: a task's history), until SIGINT/SIGTERM, `--count`
 * events, or — with `--no-follow` — the end of what the log holds.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { CliUsageError, InvalidOptionError } from "../../errors.js";
import { Queue } from "../../queue/queue.js";
import {
  isQueueEventType,
  QUEUE_EVENT_TYPES,
  type QueueEvent,
  type QueueEventType,
} from "../../task/lifecycle-event.js";
import { addSettings, type OutputFormat, positiveInteger } from "../env.js";
import { openBackend, warnIfQueueUnused } from "../open-queue.js";
import { formatJson, joinLines, print } from "../output.js";
import { warn } from "../warn.js";

interface EventsSettings {
  backendUrl?: string;
  queue: string;
  format: OutputFormat;
  after: string;
  count?: number;
  type?: QueueEventType[];
  task?: string;
  follow: boolean;
}

/** `--task`'s ids, comma-separated, at least one; `undefined` for every task. */
function taskIdsOf(raw: string | undefined): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  const ids = raw
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new CliUsageError("--task names no task: give one or more task ids");
  return new Set(ids);
}

/** `--type`'s list: known event types, comma-separated, at least one. */
function eventTypes(raw: string): QueueEventType[] {
  const types = raw
    .split(",")
    .map((type) => type.trim())
    .filter((type) => type !== "");
  const unknown = types.find((type) => !isQueueEventType(type));
  if (types.length === 0 || unknown !== undefined) {
    throw new InvalidArgumentError(
      `${unknown === undefined ? "Name at least one event type" : `Unknown event type '${unknown}'`}; one of: ${QUEUE_EVENT_TYPES.join(", ")}.`,
    );
  }
  return types as QueueEventType[];
}

/** The longest event type's length: the task column then starts at one place on every line. */
const TYPE_WIDTH = Math.max(...QUEUE_EVENT_TYPES.map((type) => type.length));

/** One event as a line: its id, time, type, task and what else it carries. */
export function eventLine(event: QueueEvent): string {
  const parts = [
    event.id,
    new Date(event.at).toISOString(),
    event.type.padEnd(TYPE_WIDTH),
    `${event.taskName} ${event.taskId}`,
  ];
  // A workflow's own events have no attempt.
  if (!event.type.startsWith("workflow:")) parts.push(`attempt ${event.attempt}`);
  if (event.durationMs !== undefined) parts.push(`${event.durationMs} ms`);
  if (event.runAt !== undefined) parts.push(`runs at ${new Date(event.runAt).toISOString()}`);
  // Stored text is written on the event's one line, its control characters shown as escapes.
  if (event.error) parts.push(joinLines(`${event.error.type}: ${event.error.message}`));
  if (event.progress !== undefined) parts.push(`progress ${formatJson(event.progress, 200)}`);
  const lastLine = event.logs?.at(-1);
  if (lastLine !== undefined) {
    const earlier = event.logs!.length - 1 + (event.logsLeftOut ?? 0);
    const shown = lastLine.length > 200 ? `${lastLine.slice(0, 199)}…` : lastLine;
    const before = earlier === 0 ? "" : ` (and ${earlier} earlier line${earlier === 1 ? "" : "s"})`;
    parts.push(`log ${joinLines(shown)}${before}`);
  }
  if (event.result !== undefined) parts.push(`result ${formatJson(event.result, 200)}`);
  if (event.resultLeftOut) parts.push("result too long for the event (sheppy task info shows it)");
  return parts.join("  ");
}

/** Adds `sheppy events`. */
export function addEventsCommand(program: Command): void {
  const command = program
    .command("events")
    .description(
      "follow a queue's lifecycle events (added, started, progress, retrying, completed, failed, crashed, cancelled, deferred, interrupted, and workflow:added/completed/failed/cancelled/retried) from every process, until interrupted",
    )
    .addOption(
      new Option(
        "--after <position>",
        'where to start: "now" (events from now on), "start" (the oldest the log keeps) or an event id (resume after it)',
      ).default("now"),
    )
    .addOption(
      new Option(
        "--type <types>",
        "only events of these types, comma-separated (e.g. failed,crashed)",
      ).argParser(eventTypes),
    )
    .addOption(
      new Option("--count <n>", "exit after this many events (of the --type ones)").argParser(
        positiveInteger,
      ),
    )
    .option(
      "--task <ids>",
      "only events of these tasks (or workflows), comma-separated ids: with --after start --no-follow, a task's history",
    )
    .option(
      "--no-follow",
      "exit once every event the log holds has been printed, instead of waiting for new ones",
    );
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<EventsSettings>();
    const tasks = taskIdsOf(settings.task);
    if (!settings.follow && settings.after === "now") {
      throw new CliUsageError(
        "--no-follow with --after now prints nothing: pass --after start (everything the log keeps) or an event id",
      );
    }
    const backend = openBackend(settings);
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    let seen = 0;
    try {
      await backend.connect();
      if (!backend.capabilities.crossProcess)
        warn(
          `${settings.backendUrl ?? "this backend"} keeps its tasks inside this process: only its own events are heard (use a redis://, postgres:// or sqlite:// URL)`,
        );
      const queue = new Queue(backend, { name: settings.queue });
      await warnIfQueueUnused(backend, queue.name, "listening all the same");
      for await (const event of queue.events({
        after: settings.after,
        signal: controller.signal,
        follow: settings.follow,
        ...(settings.type === undefined ? {} : { types: settings.type }),
      })) {
        if (tasks && !tasks.has(event.taskId)) continue;
        print(settings.format === "json" ? JSON.stringify(event) : eventLine(event));
        if (settings.count !== undefined && ++seen >= settings.count) break;
      }
    } catch (error) {
      // The backend names the position's shape; the user needs the flag and its other values.
      const position = error instanceof InvalidOptionError ? error.cause : undefined;
      if (position instanceof InvalidOptionError) {
        throw new CliUsageError(
          `--after takes "now", "start" or the id of an event the log gave: ${position.message}`,
          { cause: error },
        );
      }
      if (error instanceof InvalidOptionError && backend.eventCap === 0) {
        throw new CliUsageError(
          `the event log of queue '${settings.queue}' is off on this backend (eventCap=0 in its URL): no process writes events to follow; leave eventCap out (default 10,000) or set it above 0`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      await backend.disconnect().catch(() => undefined);
    }
  });
}
