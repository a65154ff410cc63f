/**
 * @module cli/commands/workflow-wake
 * `sheppy workflow wake <id>`: end the sleeps a running workflow waits on
 * now, by moving each sleep step to now (as `task reschedule` would); the
 * worker that claims it completes it, and the workflow goes on.
 */
import type { Command } from "commander";
import { TaskOutcomeError, WorkflowNotFoundError } from "../../errors.js";
import { SLEEP_TASK_NAME } from "../../task/workflow-sleep.js";
import { addSettings, nonEmptyId, type OutputFormat } from "../env.js";
import { queueGiven, withQueueOfWorkflow } from "../open-queue.js";
import { print, printJson } from "../output.js";

interface WakeSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

/** Statuses of a sleep step that still waits. */
const ASLEEP = new Set(["pending", "scheduled", "retrying"]);

/** Adds `sheppy workflow wake`. */
export function addWorkflowWake(group: Command): void {
  const command = group
    .command("wake")
    .description(
      "end now the sleeps (sleep(), sleepUntil()) a running workflow waits on: each sleep step is moved to now, and the workflow goes on once a worker takes it",
    )
    .argument("<id>", "workflow id", nonEmptyId);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<WakeSettings>();
    const woken = await withQueueOfWorkflow(settings, id, queueGiven(cmd), async (queue) => {
      const workflow = await queue.getWorkflow(id);
      if (!workflow) throw new WorkflowNotFoundError(id, queue.name);
      if (workflow.status !== "running") {
        throw new TaskOutcomeError(
          `workflow ${id} is ${workflow.status}: there is nothing to wake`,
        );
      }
      const waited = await queue.getTask([...workflow.pending]);
      const sleeping = waited.filter(
        (task) => task?.name === SLEEP_TASK_NAME && ASLEEP.has(task.status),
      );
      if (sleeping.length === 0) {
        throw new TaskOutcomeError(
          `workflow ${id} is not asleep: it waits for ${workflow.pending.length === 0 ? "its next resume" : `step(s) of task ${[...new Set(waited.map((t) => `'${t?.name ?? "?"}'`))].join(", ")}`}`,
        );
      }
      const moved: string[] = [];
      for (const task of sleeping) if (await queue.reschedule(task!.id)) moved.push(task!.id);
      return moved;
    });
    if (settings.format === "json") printJson({ id, woken });
    else print(`woke workflow ${id} (${woken.length} sleep step${woken.length === 1 ? "" : "s"})`);
  });
}
