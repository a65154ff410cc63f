/**
 * @module cli/commands/task
 * The `sheppy task …` group.
 */
import type { Command } from "commander";
import { addEnqueueCommands } from "./task-enqueue.js";
import { addInspectCommands } from "./task-inspect.js";
import { addManageCommands } from "./task-manage.js";
import { addRescheduleCommand } from "./task-reschedule.js";

/** Adds `sheppy task` and its subcommands. */
export function addTaskCommands(program: Command): void {
  const group = program.command("task").description("add, inspect and manage tasks");
  addInspectCommands(group);
  addEnqueueCommands(group);
  addManageCommands(group);
  addRescheduleCommand(group);
}
