/**
 * The Sheppy dashboard: a small Preact app served by the HTTP API's handler.
 * Every list is paged by the server and every view reads only what it shows,
 * so it stays quick on queues of any size.
 */
import { render } from "preact";
import { useEffect } from "preact/hooks";
import { config } from "./api.js";
import { href, useRoute } from "./router.js";
import { Home } from "./views/home.js";
import { QueueView } from "./views/queue.js";
import { TaskDetail } from "./views/task-detail.js";
import { WorkflowDetail } from "./views/workflow-detail.js";

/** The tab's title: where the page is, so that several open tabs tell apart. */
function titleOf(route: ReturnType<typeof useRoute>): string {
  if (route.view === "home") return "Sheppy";
  if (route.view === "queue") return `${route.queue} · Sheppy`;
  return `${route.view} ${route.id.slice(0, 8)} · ${route.queue} · Sheppy`;
}

function App() {
  const route = useRoute();
  useEffect(() => {
    document.title = titleOf(route);
  }, [route]);
  return (
    <>
      <header class="top">
        <a class="brand" href={href({ view: "home" })}>
          Sheppy
        </a>
        {route.view !== "home" && (
          <a class="crumb" href={href({ view: "queue", queue: route.queue, tab: "tasks" })}>
            {route.queue}
          </a>
        )}
        {config.readOnly && (
          <span class="readonly" data-testid="read-only">
            read-only
          </span>
        )}
      </header>
      <main>
        {route.view === "home" && <Home />}
        {route.view === "queue" && <QueueView key={route.queue} route={route} />}
        {route.view === "task" && <TaskDetail key={route.id} queue={route.queue} id={route.id} />}
        {route.view === "workflow" && (
          <WorkflowDetail key={route.id} queue={route.queue} id={route.id} />
        )}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
