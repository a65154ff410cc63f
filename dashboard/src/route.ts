/**
 * Where the page is, from the URL's hash (`#/q/<queue>/tasks/<id>`), so the
 * server serves one page and a reload or a shared link opens the same view.
 * A queue's task list keeps its status and task-name filters in the hash too
 * (`#/q/<queue>?status=failed,crashed&name=emails.send`), and its workflow list whether it shows
 * only the running ones (`#/q/<queue>/workflows?running=1`), so Back from a task
 * or a workflow returns to the list as it was.
 */
export type Route =
  | { view: "home" }
  | {
      view: "queue";
      queue: string;
      tab: "tasks" | "crons" | "workflows" | "workers";
      /** The task list's status filter; empty for every status. */
      statuses?: readonly string[];
      /** The task list's task-name filter; empty for every name. */
      names?: readonly string[];
      /** The workflow list shows only the running workflows. */
      running?: boolean;
    }
  | { view: "task"; queue: string; id: string }
  | { view: "workflow"; queue: string; id: string };

export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = path
    .split("/")
    .filter((part) => part !== "")
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
  const [first, queue, kind, id] = parts;
  if (first !== "q" || queue === undefined) return { view: "home" };
  if (kind === "tasks" && id !== undefined) return { view: "task", queue, id };
  if (kind === "workflows" && id !== undefined) return { view: "workflow", queue, id };
  const params = new URLSearchParams(query);
  if (kind === "crons" || kind === "workers") return { view: "queue", queue, tab: kind };
  if (kind === "workflows") {
    return { view: "queue", queue, tab: kind, running: params.get("running") === "1" };
  }
  const statuses = (params.get("status") ?? "").split(",").filter((status) => status !== "");
  const names = (params.get("name") ?? "").split(",").filter((name) => name !== "");
  return { view: "queue", queue, tab: "tasks", statuses, names };
}

/** The hash that opens `route`. */
export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.view) {
    case "home":
      return "#/";
    case "queue": {
      if (route.tab === "crons") return `#/q/${e(route.queue)}/crons`;
      if (route.tab === "workers") return `#/q/${e(route.queue)}/workers`;
      if (route.tab === "workflows") {
        return `#/q/${e(route.queue)}/workflows${route.running === true ? "?running=1" : ""}`;
      }
      const statuses = route.statuses ?? [];
      const names = route.names ?? [];
      const query = [
        ...(statuses.length > 0 ? [`status=${statuses.map(e).join(",")}`] : []),
        ...(names.length > 0 ? [`name=${names.map(e).join(",")}`] : []),
      ];
      return `#/q/${e(route.queue)}${query.length > 0 ? `?${query.join("&")}` : ""}`;
    }
    case "task":
      return `#/q/${e(route.queue)}/tasks/${e(route.id)}`;
    case "workflow":
      return `#/q/${e(route.queue)}/workflows/${e(route.id)}`;
  }
}
