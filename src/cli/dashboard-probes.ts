/**
 * @module cli/dashboard-probes
 * `/livez` and `/healthz` of `sheppy dashboard`, for the probes of a load
 * balancer or an orchestrator. They are answered before the login and the
 * host check: a probe sends no credentials, and a kubelet names the pod's
 * address as its host. So they tell a stranger only what any probe may
 * know — whether the dashboard can read its backend — never what is in it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { refusedUnlessRead, replyHealth, replyLive } from "./probe-replies.js";

/** How long a health check waits for the backend before it calls it unreachable. */
const CHECK_TIMEOUT_MS = 5_000;
/** A check this recent answers the next probe too: probes from many replicas or balancers share one read. */
const CHECK_REUSE_MS = 1_000;

export interface DashboardProbes {
  /** Answers `request` when it is a probe's (`true`); leaves it alone otherwise. */
  answer(request: IncomingMessage, response: ServerResponse): boolean;
}

type Health = { readonly status: "ok" } | { readonly status: "failing"; readonly problem: string };

/**
 * Probes over `readBackend`, a read the dashboard itself depends on (the
 * queue list). `onChange` is told when the health turns failing, and when
 * it is ok again, once each, not at every probe.
 */
export function dashboardProbes(
  readBackend: () => Promise<unknown>,
  onChange: (health: Health) => void,
): DashboardProbes {
  let last: { readonly at: number; readonly health: Health } | undefined;
  let inFlight: Promise<Health> | undefined;

  const check = (): Promise<Health> => {
    if (last && Date.now() - last.at < CHECK_REUSE_MS) return Promise.resolve(last.health);
    inFlight ??= timedRead(readBackend).then((health) => {
      if (health.status !== (last?.health.status ?? "ok")) onChange(health);
      last = { at: Date.now(), health };
      inFlight = undefined;
      return health;
    });
    return inFlight;
  };

  return {
    answer(request, response) {
      // The target as sent, up to its query (not parsed as a URL: a target like `//` is not one).
      const path = (request.url ?? "/").split("?", 1)[0];
      if (path !== "/livez" && path !== "/healthz") return false;
      if (refusedUnlessRead(request, response)) return true;
      if (path === "/livez") replyLive(request, response);
      else void check().then((health) => replyHealth(request, response, health));
      return true;
    },
  };
}

/** `readBackend` within the check's time, as a health; never rejects. */
function timedRead(readBackend: () => Promise<unknown>): Promise<Health> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Health>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          status: "failing",
          problem: `the backend did not answer within ${CHECK_TIMEOUT_MS / 1000} s`,
        }),
      CHECK_TIMEOUT_MS,
    );
  });
  const read = readBackend().then(
    (): Health => ({ status: "ok" }),
    // The error's class only: its message may name hosts and users a stranger need not read.
    (error: unknown): Health => ({
      status: "failing",
      problem: `the backend cannot be read (${error instanceof Error ? error.name : "error"})`,
    }),
  );
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}
