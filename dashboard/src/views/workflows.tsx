import { api } from "../api.js";
import { Pager, useCursors } from "../components/pager.js";
import { StatusBadge } from "../components/status-badge.js";
import { formatTime } from "../format.js";
import { href } from "../router.js";
import { useLoad } from "../use-load.js";

const PAGE_SIZE = 50;

/**
 * The queue's workflows, a page at a time, optionally only the running ones. The choice is
 * the address's, so Back from a workflow returns to the list as it was.
 */
export function WorkflowList({ queue, running }: { queue: string; running: boolean }) {
  const cursors = useCursors("workflows", `${queue}|${running}`);
  const cursor = cursors.current;
  const page = useLoad(
    () => api.workflows(queue, running, cursor, PAGE_SIZE),
    `wf|${queue}|${running}|${cursor ?? ""}`,
  );
  return (
    <div>
      <label class="toolbar">
        <input
          type="checkbox"
          checked={running}
          onChange={(event) => {
            location.hash = href({
              view: "queue",
              queue,
              tab: "workflows",
              running: event.currentTarget.checked,
            });
          }}
        />{" "}
        only running
      </label>
      {page.error && <p class="problem">Could not read the workflows: {page.error.message}</p>}
      {page.data && page.data.workflows.length === 0 && (
        <p class="muted">No workflow{running ? " is running" : " here"}.</p>
      )}
      {page.data && page.data.workflows.length > 0 && (
        <table class="table" data-testid="workflows">
          <thead>
            <tr>
              <th>id</th>
              <th>workflow</th>
              <th>status</th>
              <th class="num">steps</th>
              <th>created (UTC)</th>
              <th>finished (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {page.data.workflows.map((workflow) => (
              <tr key={workflow.id}>
                <td>
                  <a href={href({ view: "workflow", queue, id: workflow.id })} title={workflow.id}>
                    <code>{workflow.id}</code>
                  </a>
                </td>
                <td>{workflow.name}</td>
                <td>
                  <StatusBadge status={workflow.status} />
                </td>
                <td class="num">{workflow.steps.length}</td>
                <td>{formatTime(workflow.createdAt)}</td>
                <td>{formatTime(workflow.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager cursors={cursors} next={page.data?.cursor} labels={["← Previous", "Next →"]} />
    </div>
  );
}
