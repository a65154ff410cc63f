/**
 * Where the page is, from the URL's hash (`#/q/<queue>/tasks/<id>`), so the
 * server serves one page and a reload or a shared link opens the same view.
 */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { view: "home" }
  | { view: "queue"; queue: string; tab: "tasks" | "crons" | "workflows" }
  | { view: "task"; queue: string; id: string }
  | { view: "workflow"; queue: string; id: string };

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, "")
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
  return { view: "queue", queue, tab: "tasks" };
}

/** The hash that opens `route`. */
export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.view) {
    case "home":
      return "#/";
    case "queue":
      return `#/q/${e(route.queue)}${route.tab === "tasks" ? "" : `/${route.tab}`}`;
    case "task":
      return `#/q/${e(route.queue)}/tasks/${e(route.id)}`;
    case "workflow":
      return `#/q/${e(route.queue)}/workflows/${e(route.id)}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
