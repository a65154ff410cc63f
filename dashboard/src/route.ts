/**
 * Where the page is, from the URL's hash (`#/q/<queue>/tasks/<id>`), so the
 * server serves one page and a reload or a shared link opens the same view.
 * A queue's task list keeps its status filter in the hash too
 * (`#/q/<queue>?status=failed,crashed`), so Back from a task returns to it.
 */
export type Route =
  | { view: "home" }
  | {
      view: "queue";
      queue: string;
      tab: "tasks" | "crons" | "workflows";
      /** The task list's status filter; empty for every status. */
      statuses?: readonly string[];
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
  if (kind === "crons" || kind === "workflows") return { view: "queue", queue, tab: kind };
  const statuses = (new URLSearchParams(query).get("status") ?? "")
    .split(",")
    .filter((status) => status !== "");
  return { view: "queue", queue, tab: "tasks", statuses };
}

/** The hash that opens `route`. */
export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.view) {
    case "home":
      return "#/";
    case "queue": {
      if (route.tab !== "tasks") return `#/q/${e(route.queue)}/${route.tab}`;
      const statuses = route.statuses ?? [];
      return `#/q/${e(route.queue)}${statuses.length > 0 ? `?status=${statuses.map(e).join(",")}` : ""}`;
    }
    case "task":
      return `#/q/${e(route.queue)}/tasks/${e(route.id)}`;
    case "workflow":
      return `#/q/${e(route.queue)}/workflows/${e(route.id)}`;
  }
}
