/**
 * @module execution/workflow-replay
 * One resume of a workflow: run its body from the start, feeding back what
 * earlier resumes recorded — the finished step tasks, the values of
 * `sideEffect()`/`now()` — until it asks for a step that has not finished
 * (it then waits for those steps), returns (completed) or throws (failed).
 *
 * Replaying instead of saving the generator's state is what makes a
 * workflow durable: any worker, after any crash, rebuilds the same state from
 * the stored record. It works only if the body asks for the same steps in the
 * same order on every run; the determinism guard compares each step with the
 * stored one and fails the workflow when they differ, instead of attaching
 * the old step's outcome to a different request.
 *
 * Step task ids are derived from the workflow (its id, and its seed when it
 * has one) and the step's index, so a resume that runs twice (a retry after a crash) names
 * the same tasks, and the backend adds each only once. No backend I/O here.
 */
import { InvalidYieldError, NonDeterministicWorkflowError, SerializationError } from "../errors.js";
import { type JsonValue, toJson } from "../json.js";
import { validateSync } from "../task/schema.js";
import { type ErrorData, errorToData, TaskError } from "../task/stored-error.js";
import { chainingTask, Task, type TaskData } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { watchingHelpers } from "../task/unstarted-helpers.js";
import { Workflow, type WorkflowData, type WorkflowStep } from "../task/workflow-record.js";
import { findWorkflow, type WorkflowDefinition } from "../task/workflow-registry.js";
import { STEP_META_KEY } from "../task/workflow-resume-task.js";
import { SLEEP_TASK_NAME } from "../task/workflow-sleep.js";
import type { WorkflowInstruction } from "../task/workflow-steps.js";
import { withArticle } from "../util/article.js";
import { canonicalJson } from "../util/canonical-json.js";
import { uuidV5 } from "../util/uuid-v5.js";
import { resultJson as storedJson } from "./result-json.js";

const STEP_NAMESPACE = "3f0d1c9e-5b7a-4f62-9a41-0c8e2b7d6a15";

/**
 * The task id of step `index` of `workflow`: the same in every process and
 * on every replay. A workflow added under an id of the caller's has a seed
 * (see `WorkflowData.seed`) that goes into it, because that id may be used
 * again once the first workflow under it was deleted or expired, while the
 * records of that one's steps may still be held: the new workflow's steps
 * must not be those.
 */
export function stepTaskId(workflow: Pick<WorkflowData, "id" | "seed">, index: number): string {
  const name =
    workflow.seed === undefined
      ? `${workflow.id}/${index}`
      : `${workflow.id}/${workflow.seed}/${index}`;
  return uuidV5(STEP_NAMESPACE, name);
}

/**
 * A short hash of a step's arguments as canonical JSON (key order does not
 * matter). It only has to tell changed arguments from the same ones, with no
 * adversary, and it runs for every step on every replay: a fast 53-bit string
 * hash (two multiplicative 32-bit lanes), not a cryptographic one.
 */
export function argsHash(args: readonly JsonValue[]): string {
  const text = canonicalJson(args as JsonValue[]);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return hash.toString(16).padStart(14, "0");
}

/** What one resume ended with. Every kind carries the step list and effects as they now stand. */
export type ReplayOutcome =
  | {
      readonly kind: "waiting";
      readonly steps: WorkflowStep[];
      readonly effects: JsonValue[];
      /** The step tasks first asked for in this resume, to add (status `pending`). */
      readonly newTasks: TaskData[];
      /** Task ids of the steps the workflow now waits for. */
      readonly pending: string[];
    }
  | {
      readonly kind: "completed";
      readonly steps: WorkflowStep[];
      readonly effects: JsonValue[];
      readonly result: JsonValue;
    }
  | {
      readonly kind: "failed";
      readonly steps: WorkflowStep[];
      readonly effects: JsonValue[];
      readonly error: unknown;
    };

/** What a resume starts from. */
export interface ReplayInput {
  readonly definition: WorkflowDefinition;
  readonly workflow: WorkflowData;
  /** The finished records of steps, by task id (a step not in it has not finished). */
  readonly outcomes: ReadonlyMap<string, TaskData>;
  /** The queue's clock, for `now()` and the new steps' creation time. */
  readonly now: () => number;
}

const SAME_STEPS_ADVICE =
  "A workflow body must ask for the same steps in the same order on every run: read clocks, random numbers and other changing data through sideEffect() or now(), and deploy a changed workflow under a new name";

/** Thrown inside the replay to end it waiting; never reaches user code uncaught. */
class Waiting {
  constructor(
    readonly newTasks: TaskData[],
    readonly pending: string[],
  ) {}
}

/** Runs one resume of `input.workflow`. Never throws: a failure of the body is a `failed` outcome. */
export function replayWorkflow(input: ReplayInput): ReplayOutcome {
  const replay = new Replay(input);
  try {
    const value = replay.drive(input.definition, input.workflow.args);
    replay.checkEveryStepAsked();
    return {
      kind: "completed",
      steps: replay.steps,
      effects: replay.effects,
      result: resultJson(input.definition, value),
    };
  } catch (error) {
    if (error instanceof Waiting) {
      return {
        kind: "waiting",
        steps: replay.steps,
        effects: replay.effects,
        newTasks: error.newTasks,
        pending: error.pending,
      };
    }
    if (!(error instanceof NonDeterministicWorkflowError)) {
      // A body that now throws before the steps it took before is a changed body too.
      try {
        replay.checkEveryStepAsked();
      } catch (changed) {
        return { kind: "failed", steps: replay.steps, effects: replay.effects, error: changed };
      }
    }
    return { kind: "failed", steps: replay.steps, effects: replay.effects, error };
  }
}

/** The stored result: the schema's output when the definition has one, JSON-checked. */
function resultJson(definition: WorkflowDefinition, value: unknown): JsonValue {
  const checked = definition.resultSchema
    ? validateSync(
        definition.resultSchema,
        value,
        `invalid result of workflow '${definition.name}'`,
        "result",
      )
    : value;
  return storedJson(`workflow '${definition.name}'`, checked);
}

class Replay {
  /** The stored steps, then the ones this resume adds. */
  readonly steps: WorkflowStep[];
  readonly effects: JsonValue[];
  #nextStep = 0;
  #nextYield = 0;
  #nextEffect = 0;
  /** The steps the stored workflow waits for. */
  readonly #waitedFor: ReadonlySet<string>;

  constructor(private readonly input: ReplayInput) {
    this.steps = [...input.workflow.steps];
    this.effects = [...input.workflow.effects];
    this.#waitedFor = new Set(input.workflow.pending);
  }

  /**
   * Runs a body (the workflow's own, or a nested one inline) to its return
   * value. Like a task's function, the body receives its stored arguments
   * read through its args schema, so it gets the schema's output (a `Date`
   * back from `z.coerce.date()`) on every replay, not the JSON it was stored as.
   */
  drive(definition: WorkflowDefinition, args: readonly JsonValue[]): unknown {
    // Fresh arguments on every replay: the body may change what it was given.
    const stored = structuredClone(args) as unknown[];
    const given = definition.argsSchema
      ? (validateSync(
          definition.argsSchema,
          stored,
          `stored arguments of workflow '${definition.name}' are invalid`,
          "args",
        ) as unknown[])
      : stored;
    const generator = definition.fn(...(given as never[]));
    let sent: { value: unknown } | { error: unknown } = { value: undefined };
    for (;;) {
      const turn = watchingHelpers((): IteratorResult<WorkflowInstruction, unknown> => {
        try {
          return "error" in sent ? generator.throw(sent.error) : generator.next(sent.value);
        } catch (error) {
          throw yieldOfNonHelper(error, definition.name) ?? error;
        }
      });
      const next = turn.value;
      // A helper's generator yielded as it is (`yield step(t)`) is told apart below.
      if (turn.unstarted.length > 0 && !isGenerator(next.value)) {
        if (!next.done) generator.return(undefined);
        throw new InvalidYieldError(
          `Invalid workflow '${definition.name}': it called ${[...new Set(turn.unstarted)].join(", ")} without yield*, so what it asked for never ran; write yield* before each call: yield* ${turn.unstarted[0]}`,
        );
      }
      if (next.done) return next.value;
      try {
        sent = { value: this.#answer(definition, next.value) };
      } catch (error) {
        // Waiting and a changed step end the resume; the body cannot catch them.
        if (error instanceof Waiting || error instanceof NonDeterministicWorkflowError) {
          generator.return(undefined);
          throw error;
        }
        // An effect that threw goes back into the body, which may handle it.
        sent = { error };
      }
    }
  }

  #answer(definition: WorkflowDefinition, instruction: unknown): unknown {
    const kind = (instruction as Partial<WorkflowInstruction> | null)?.kind;
    if (kind === "steps")
      return this.#steps(instruction as WorkflowInstruction & { kind: "steps" });
    if (kind === "run") return this.#run(instruction as WorkflowInstruction & { kind: "run" });
    if (kind === "effect")
      return this.#effect(instruction as WorkflowInstruction & { kind: "effect" });
    throw new InvalidYieldError(
      `Invalid yield in workflow '${definition.name}': it yielded ${describe(instruction)}; yield only through the step helpers: yield* step(task), yield* all([tasks]), yield* run(workflow), yield* sideEffect(fn), yield* now()`,
    );
  }

  #steps(instruction: WorkflowInstruction & { kind: "steps" }): unknown {
    const { tasks, single } = instruction;
    const notTask = Array.isArray(tasks) ? tasks.find((t) => !(t instanceof Task)) : tasks;
    if (!Array.isArray(tasks) || notTask !== undefined) {
      const helper = single ? "step()" : "all()";
      throw new InvalidYieldError(
        `Invalid yield in workflow '${this.input.workflow.name}': ${helper} takes ${single ? "a Task" : "one list of Tasks, as in all([a, b])"}, got ${!single && notTask instanceof Task ? "a Task" : describe(notTask)}`,
      );
    }
    const yieldIndex = this.#nextYield++;
    this.#guardYieldSize(yieldIndex, tasks);
    const finished: Task[] = [];
    const newTasks: TaskData[] = [];
    const pending: string[] = [];
    for (const task of tasks) {
      const index = this.#nextStep++;
      const data = task.toJSON();
      const stored = this.steps[index];
      // A stored step keeps its id (derived for its place, or new when a retry of the workflow
      // asked for it again); only a new step needs deriving.
      const taskId = stored?.taskId ?? stepTaskId(this.input.workflow, index);
      const step: WorkflowStep = {
        taskId,
        index,
        yield: yieldIndex,
        name: data.name,
        argsHash: argsHash(data.args),
      };
      if (stored === undefined) {
        this.steps.push(step);
        newTasks.push(this.#stepTask(data, taskId));
        pending.push(taskId);
        continue;
      }
      const outcome = this.input.outcomes.get(taskId);
      this.#guard(stored, step, { was: outcome?.args, now: data.args });
      if (outcome !== undefined) finished.push(finishedStep(structuredClone(outcome)));
      else {
        // Neither ended nor waited for: a retry of the failed workflow asks for it again, as
        // the body asks for it now (checked by the guard above before anything runs).
        if (!this.#waitedFor.has(taskId)) newTasks.push(this.#stepTask(data, taskId));
        pending.push(taskId);
      }
    }
    if (pending.length > 0) throw new Waiting(newTasks, pending);
    return single ? finished[0] : finished;
  }

  #stepTask(data: TaskData, taskId: string): TaskData {
    const copy = structuredClone(data);
    return {
      ...copy,
      id: taskId,
      status: "pending",
      workflowId: this.input.workflow.id,
      createdAt: new Date(this.input.now()).toISOString(),
      // Its end resumes the workflow through a task named after it.
      meta: { ...copy.meta, [STEP_META_KEY]: this.input.workflow.name },
    };
  }

  /**
   * Fails the replay when the body ended (returned or threw) before asking
   * again for every step it asked for on earlier runs: a shorter body was
   * deployed, and what those steps did would be dropped without a word.
   */
  checkEveryStepAsked(): void {
    const recorded = this.input.workflow.steps;
    const first = recorded[this.#nextStep];
    if (first === undefined) return;
    throw new NonDeterministicWorkflowError(
      `workflow '${this.input.workflow.name}' (id ${this.input.workflow.id}) ended on replay after asking for ${this.#nextStep} of the ${recorded.length} steps it asked for before: step ${first.index} (task '${first.name}') was not asked for again. ${SAME_STEPS_ADVICE}`,
    );
  }

  /**
   * Fails the replay when a yield asked for before now asks for more or fewer
   * steps than it did (a fan-out's size changed by a deploy): checked before
   * any step of it is asked for, so a retried workflow whose fixed body no
   * longer fits what it recorded runs none of them again.
   */
  #guardYieldSize(yieldIndex: number, tasks: readonly Task[]): void {
    const asked = tasks.length;
    // The yield's recorded steps follow those of the yields before it, which matched: counted
    // from here, not searched for, so a replay stays linear in its steps.
    const recorded = this.input.workflow.steps;
    const first = this.#nextStep;
    let end = first;
    while (recorded[end]?.yield === yieldIndex) end++;
    const count = end - first;
    if (count === 0 || count === asked) return;
    throw new NonDeterministicWorkflowError(
      `workflow '${this.input.workflow.name}' (id ${this.input.workflow.id}) asked on replay for ${asked} step(s) at yield ${yieldIndex} (${taskNames(tasks.map((t) => t.name))}), where it asked for ${count} before (steps ${recorded[first]!.index} to ${recorded[end - 1]!.index}: ${taskNames(recorded.slice(first, end).map((r) => r.name))}); a step added or removed before this yield moves every later one. ${SAME_STEPS_ADVICE}`,
    );
  }

  /**
   * Fails the replay when the step asked for here differs from the one stored
   * for this place. `args`: the step's arguments now, and as it ran when it
   * has finished (only their hash is kept while it has not), to show a
   * change of arguments.
   */
  #guard(
    stored: WorkflowStep,
    now: WorkflowStep,
    args: { was: readonly JsonValue[] | undefined; now: readonly JsonValue[] },
  ): void {
    const nameChanged = stored.name !== now.name;
    // A sleep asked for before keeps the wake time it was given: a deploy that changes a delay
    // changes the sleeps asked for from then on, not the ones already waited for or under way.
    const argsChanged = stored.argsHash !== now.argsHash && !isSleepPair(stored, now);
    const yieldChanged = stored.yield !== now.yield;
    if (!nameChanged && !argsChanged && !yieldChanged) return;
    const what = nameChanged
      ? `the task changed from '${stored.name}' to '${now.name}'`
      : argsChanged
        ? `the arguments of task '${now.name}' changed (${args.was === undefined ? "" : `were ${shownArgs(args.was)}, `}now ${shownArgs(args.now)})`
        : `task '${now.name}' is now asked for by another yield (${now.yield}, was ${stored.yield})`;
    throw new NonDeterministicWorkflowError(
      `workflow '${this.input.workflow.name}' (id ${this.input.workflow.id}) asked for a different step ${stored.index} on replay: ${what}. ${SAME_STEPS_ADVICE}`,
    );
  }

  #run(instruction: WorkflowInstruction & { kind: "run" }): unknown {
    const nested = instruction.workflow;
    const definition = nested && findWorkflow((nested as { name?: unknown }).name as string);
    if (!definition) {
      throw new InvalidYieldError(
        `Invalid yield in workflow '${this.input.workflow.name}': run() takes a Workflow of a workflow defined in this process (got ${describe(nested)})`,
      );
    }
    return resultOfNested(definition, this.drive(definition, nested.args));
  }

  /**
   * A side effect's value — or its error: a body that catches a failed one
   * must take the same branch on every replay, so the failure is recorded
   * too and thrown again (rebuilt from its stored form) on replay.
   */
  #effect(instruction: WorkflowInstruction & { kind: "effect" }): unknown {
    const index = this.#nextEffect++;
    const { helper } = instruction;
    if (index < this.effects.length) {
      const recorded = this.effects[index] as {
        value?: JsonValue;
        error?: ErrorData;
        helper?: string;
      };
      // Recorded before effects named their helper: nothing to compare.
      if (recorded.helper !== undefined && recorded.helper !== helper) {
        throw new NonDeterministicWorkflowError(
          `workflow '${this.input.workflow.name}' (id ${this.input.workflow.id}) asked on replay for side effect ${index} (counted from 0) through ${helper}(), where it asked through ${recorded.helper}() before: a sideEffect() or now() added, removed or moved hands every later one the value recorded for another. ${SAME_STEPS_ADVICE}`,
        );
      }
      if (recorded.error) throw new TaskError(recorded.error).toError();
      return instruction.revive(structuredClone(recorded.value ?? null));
    }
    let value: JsonValue;
    try {
      value = toJsonValue(instruction.compute(this.input.now), this.input.workflow.name);
    } catch (error) {
      this.effects.push({ error: errorToData(error) as unknown as JsonValue, helper });
      throw error;
    }
    this.effects.push({ value, helper });
    return instruction.revive(structuredClone(value));
  }
}

/**
 * The error to fail with instead of what the body threw, when that is the
 * runtime's own for `yield*` of something that is no step helper's — most
 * often a Task, which `step()` runs — rather than an error of the body's own
 * code: told by the message V8 gives exactly that case ("yield* … is not
 * iterable"). `undefined` for any other error.
 */
function yieldOfNonHelper(error: unknown, workflow: string): InvalidYieldError | undefined {
  if (!(error instanceof TypeError) || !/^yield\* .* is not iterable/.test(error.message)) return;
  return new InvalidYieldError(
    `Invalid yield in workflow '${workflow}': yield* was given something that is not a step helper's (${error.message}); a task runs as a step through yield* step(task) — yield* takes step(task), all([tasks]), run(workflow), sleep(seconds), sideEffect(fn), now()`,
    { cause: error },
  );
}

/** Whether both steps are sleeps (`sheppy.sleep`), whose arguments the guard does not compare. */
function isSleepPair(stored: WorkflowStep, now: WorkflowStep): boolean {
  return stored.name === SLEEP_TASK_NAME && now.name === SLEEP_TASK_NAME;
}

/**
 * A side effect's value as recorded. It comes back exactly as recorded, with
 * no schema to read it through, so what JSON would change is refused rather
 * than handed back changed: `undefined` (it would come back `null`), and a
 * `Date` (it would come back as text).
 */
function toJsonValue(value: unknown, workflow: string): JsonValue {
  try {
    return toJson(value, "sideEffect value", { refuseDates: true });
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    throw new SerializationError(`workflow '${workflow}': ${error.message}`, causeOf(error));
  }
}

/** The options keeping `error`'s cause (what user code threw) when a message is reworded. */
function causeOf(error: Error): { cause: unknown } | undefined {
  return error.cause === undefined ? undefined : { cause: error.cause };
}

/** A nested workflow's result as its caller receives it: stored as JSON, read back through its schema. */
function resultOfNested(definition: WorkflowDefinition, value: unknown): unknown {
  const json = resultJson(definition, value);
  if (!definition.resultSchema) return json;
  return validateSync(
    definition.resultSchema,
    json,
    `result of workflow '${definition.name}'`,
    "result",
  );
}

/**
 * A finished step as the body receives it — a fresh copy on every replay, so
 * a body that changes it changes neither the stored record nor later replays.
 * A completed step whose task declares a result schema yields its parsed output.
 */
function finishedStep(data: TaskData): Task {
  const chaining = chainingTask(data);
  if (chaining) return chaining;
  const schema = data.status === "completed" ? findTask(data.name)?.resultSchema : undefined;
  if (!schema) return new Task(data, data.result);
  const result = validateSync(
    schema,
    data.result,
    `stored result of task '${data.name}' (${data.id}) does not match its result schema`,
    "result",
  );
  return new Task(data, result);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array (use yield* all([...]))";
  if (value instanceof Task) return "a Task (use yield* step(task))";
  if (value instanceof Workflow) return "a Workflow (use yield* run(workflow))";
  if (isGenerator(value)) {
    return "a helper's generator instead of what it yields — write yield* (with the star): yield* step(task)";
  }
  if (typeof value === "object") return withArticle(value.constructor?.name || "plain object");
  return withArticle(typeof value);
}

function isGenerator(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { next?: unknown }).next === "function" &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function"
  );
}

/** Arguments as a changed step's message shows them: their JSON, cut short past 120 characters. */
function shownArgs(args: readonly JsonValue[]): string {
  const text = JSON.stringify(args);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** Task names for a message: `task 'a'`, or `tasks 'a', 'b', …` (the first five, and how many in all). */
function taskNames(names: readonly string[]): string {
  const shown = names
    .slice(0, 5)
    .map((name) => `'${name}'`)
    .join(", ");
  if (names.length === 1) return `task ${shown}`;
  return `tasks ${shown}${names.length > 5 ? `, … (${names.length} in all)` : ""}`;
}
