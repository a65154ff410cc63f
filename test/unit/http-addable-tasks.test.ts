/**
 * Which tasks a caller may add over the HTTP API: `addableTasks` (a list of
 * names, or a check of the name and the request) limits them, for the add,
 * schedule and cron routes alike; an unknown name is answered without the
 * names the serving process knows, which may be internal.
 */
import { InvalidOptionError, Queue, task } from "sheppy";
import { createHttpHandler, type HttpHandlerOptions } from "sheppy/http";
import { describe, expect, it } from "vitest";

const echo = task({ name: "http-addable-tasks.echo" }, (text: string) => text);
const wipe = task({ name: "http-addable-tasks.internal-wipe" }, (what: string) => `wiped ${what}`);

function api(options: HttpHandlerOptions = {}) {
  const queue = new Queue("memory://?instantProcessing=false", { name: "jobs" });
  const handler = createHttpHandler(queue.backend, options);
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const answer = await handler(
      new Request(`http://localhost/jobs${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      }),
    );
    return { status: answer.status, body: (await answer.json()) as { error?: string } };
  };
  return { queue, post };
}

const ROUTES = [
  ["/tasks", {}],
  ["/tasks/schedule", { at: 3600 }],
  ["/crons", { every: 60 }],
] as const;

describe("addableTasks", () => {
  it("a list: only its names are added, by every route that adds; the others are a 403 naming what may be", async () => {
    const { queue, post } = api({ addableTasks: [echo.taskName] });
    for (const [path, extra] of ROUTES) {
      const refused = await post(path, { name: wipe.taskName, args: ["all"], ...extra });
      expect(refused.status, path).toBe(403);
      expect(refused.body.error).toBe(
        `task '${wipe.taskName}' may not be added through this API (it may add: ${echo.taskName})`,
      );
      expect((await post(path, { name: echo.taskName, args: ["hi"], ...extra })).status).toBe(201);
    }
    expect((await queue.listTasks()).tasks.map((t) => t.name)).not.toContain(wipe.taskName);
    await queue.close();
  });

  it("a retry is an add again: a task the caller may not add is not run again through the API", async () => {
    const { queue, post } = api({ addableTasks: [echo.taskName] });
    const internal = wipe("all");
    await queue.add(internal);
    await queue.cancel(internal);
    const refused = await post(`/tasks/${internal.id}/retry`, { force: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe(
      `task '${wipe.taskName}' may not be added through this API (it may add: ${echo.taskName})`,
    );
    expect((await queue.getTask(internal))?.status).toBe("cancelled");
    const mine = echo("x");
    await queue.add(mine);
    await queue.cancel(mine);
    expect((await post(`/tasks/${mine.id}/retry`, {})).status).toBe(200);
    await queue.close();
  });

  it("an id held by a task of another name is a 409 that does not name that task", async () => {
    const { queue, post } = api();
    await queue.add(wipe("all"), { id: "app-internal-1" });
    const answer = await post("/tasks", { name: echo.taskName, args: ["a"], id: "app-internal-1" });
    expect(answer.status).toBe(409);
    expect(answer.body.error).toBe(
      "id 'app-internal-1' is held by a task of another name, so this is not a resend of it; choose another id",
    );
    await queue.close();
  });

  it("a function: decides per name and request", async () => {
    const { queue, post } = api({
      addableTasks: (name, request) =>
        name !== wipe.taskName || request.headers.get("x-role") === "admin",
    });
    expect((await post("/tasks", { name: wipe.taskName, args: ["x"] })).status).toBe(403);
    expect(
      (await post("/tasks", { name: wipe.taskName, args: ["x"] }, { "x-role": "admin" })).status,
    ).toBe(201);
    expect((await post("/tasks", { name: echo.taskName, args: ["x"] })).status).toBe(201);
    await queue.close();
  });

  it("an unknown name is a 400 that does not list the names the process knows", async () => {
    const { queue, post } = api();
    const answer = await post("/tasks", { name: "nope", args: [] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe("no task named 'nope' is defined in the serving process");
    expect(answer.body.error).not.toContain(wipe.taskName);
    await queue.close();
  });

  it("must be a list of names or a function", () => {
    const queue = new Queue("memory://", { name: "jobs" });
    for (const bad of ["echo", [""], [1], {}] as unknown[]) {
      expect(() => createHttpHandler(queue.backend, { addableTasks: bad as string[] })).toThrow(
        new InvalidOptionError(
          `createHttpHandler() option addableTasks must be a list of task names or a function (name, request) => boolean (got ${JSON.stringify(bad)})`,
        ),
      );
    }
  });
});
