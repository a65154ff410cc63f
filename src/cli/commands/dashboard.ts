/**
 * @module cli/commands/dashboard
 * `sheppy dashboard`: serves the HTTP API and the dashboard over one backend
 * until SIGINT/SIGTERM. It listens on loopback unless told otherwise. With
 * `SHEPPY_DASHBOARD_PASSWORD` set, it asks for a login (HTTP Basic; the user
 * is `SHEPPY_DASHBOARD_USER`, default `sheppy`); without it, whoever reaches
 * the port reads every task and, unless --read-only, changes them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import type { Command } from "commander";
import { CliUsageError } from "../../errors.js";
import { setDefaultLogger } from "../../observability/logger.js";
import { maskUrl } from "../../util/mask-url.js";
import { dashboardProbes } from "../dashboard-probes.js";
import { addSettings, type LogFormat, type LogLevel } from "../env.js";
import { listenOrExplain } from "../listen.js";
import { loadModules } from "../load-modules.js";
import { createCliLogger } from "../logger.js";
import { LOOPBACK, LOOPBACK_HOST_NAMES } from "../loopback-hosts.js";
import { openBackend } from "../open-queue.js";
import { warn } from "../warn.js";

interface DashboardSettings {
  readonly backendUrl?: string;
  readonly port: number;
  readonly host: string;
  readonly readOnly?: boolean;
  readonly tasks?: readonly string[];
  readonly allowedHosts?: readonly string[];
  readonly allowedOrigins?: readonly string[];
  readonly addableTasks?: readonly string[];
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
}

const ANY = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * Addresses a browser can open for `host`: itself, or — for a wildcard
 * (0.0.0.0, ::), which no browser can open — this machine's own addresses.
 */
function reachableAt(host: string): string[] {
  const bracket = (address: string) => (address.includes(":") ? `[${address}]` : address);
  if (!ANY.has(host)) return [bracket(host)];
  const ipv4Only = host === "0.0.0.0";
  const found = Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && (!ipv4Only || info.family === "IPv4"))
    .map((info) => bracket(info!.address));
  return found.length > 0 ? found : [bracket(host)];
}

/**
 * The host names the dashboard answers to: those given (`*`: any), else, on
 * loopback, the loopback names — a web page whose own domain resolves to
 * 127.0.0.1 (DNS rebinding) is then refused instead of reaching the API as
 * if it were on it. `undefined`: any host.
 */
function hostsAnswered(settings: DashboardSettings): readonly string[] | undefined {
  const given = settings.allowedHosts;
  // `*` is handed on as it is: the API then answers browsers under any name too.
  if (given) return given.includes("*") ? ["*"] : given;
  return LOOPBACK.has(settings.host) ? LOOPBACK_HOST_NAMES : undefined;
}

/** Adds `sheppy dashboard`. */
export function addDashboardCommand(program: Command): void {
  const command = program
    .command("dashboard")
    .description(
      "serve the dashboard and the HTTP API (on this machine only, unless --host says otherwise)",
    );
  addSettings(command, [
    "backendUrl",
    "port",
    "host",
    "allowedHosts",
    "allowedOrigins",
    "readOnly",
    "tasks",
    "addableTasks",
    "logFormat",
  ]);
  command.addHelpText(
    "after",
    [
      "",
      "--tasks is needed only to add tasks or crons by name through the API; the dashboard reads without it.",
      "",
      "Login: set SHEPPY_DASHBOARD_PASSWORD (and SHEPPY_DASHBOARD_USER, default 'sheppy') and every request",
      "needs it (HTTP Basic: the browser asks once). Use HTTPS (a proxy that ends TLS) beyond this machine.",
      "",
      "Probes: /livez (200 while the process answers) and /healthz (200 while the backend can be read,",
      "503 otherwise) answer without the login and under any host name; they tell nothing else.",
      "",
      "Logs (the API's server errors, the backend's reconnects, the dashboard's warnings) go to stderr;",
      "--log-format json writes each as a JSON line, warnings included, for a log collector.",
    ].join("\n"),
  );
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<DashboardSettings>();
    // As every command but `work`: warnings and worse unless --log-level asks for more.
    const levelGiven = cmd.parent?.getOptionValueSource("logLevel") !== "default";
    await serveDashboard(settings, levelGiven ? settings.logLevel : "warn");
  });
}

/**
 * Connections one address may hold at once: one client trickling the headers
 * of hundreds of requests (slowloris) would otherwise take every connection
 * the server allows until they time out. High enough for a proxy in front,
 * which reaches the dashboard from one address for all its users.
 */
const CONNECTIONS_PER_CLIENT = 256;

/** Closes at once each connection past `most` from one remote address. */
function limitConnectionsPerClient(server: Server, most: number): void {
  const held = new Map<string, number>();
  server.on("connection", (socket) => {
    const address = socket.remoteAddress ?? "";
    const count = (held.get(address) ?? 0) + 1;
    if (count > most) {
      socket.destroy();
      return;
    }
    held.set(address, count);
    socket.once("close", () => {
      const left = (held.get(address) ?? 1) - 1;
      if (left <= 0) held.delete(address);
      else held.set(address, left);
    });
  });
}

/**
 * The login the dashboard asks for, from the environment (never a flag: a
 * password on the command line is seen by every user of the machine), or
 * none when `SHEPPY_DASHBOARD_PASSWORD` is unset.
 */
function loginFromEnvironment(): { user: string; password: string } | undefined {
  const password = process.env.SHEPPY_DASHBOARD_PASSWORD;
  const user = process.env.SHEPPY_DASHBOARD_USER;
  // Set but empty is most often a secret that failed to render: serving without a login then
  // would open the dashboard by accident.
  if (password === "") {
    throw new CliUsageError(
      "SHEPPY_DASHBOARD_PASSWORD is set but empty: give it a password, or unset it to serve without a login",
    );
  }
  if (password === undefined) {
    if (user !== undefined && user !== "") {
      throw new CliUsageError(
        "SHEPPY_DASHBOARD_USER is set but SHEPPY_DASHBOARD_PASSWORD is not: set both to ask for a login, or neither",
      );
    }
    return undefined;
  }
  return { user: user === undefined || user === "" ? "sheppy" : user, password };
}

async function serveDashboard(settings: DashboardSettings, level: LogLevel): Promise<void> {
  const login = loginFromEnvironment();
  const logger = createCliLogger(level, settings.logFormat, 2);
  setDefaultLogger(logger);
  // Asked for JSON, a collector reads every line of stderr as a record: warnings too.
  const note = settings.logFormat === "json" ? (message: string) => logger.warn(message) : warn;
  // Loaded here, not with the program: every other command starts without the API's validator.
  const [{ createHttpHandler }, { toNodeHandler }, { basicAuth }] = await Promise.all([
    import("../../http/handler.js"),
    import("../../http/node-adapter.js"),
    import("../../http/credentials.js"),
  ]);
  // Checked before anything connects: a login that cannot be asked for stops here.
  const authorize = login ? basicAuth(login) : undefined;
  if (settings.tasks) await loadModules(settings.tasks);
  const backend = openBackend(settings);
  await backend.connect();
  const readOnly = settings.readOnly === true;
  const allowedHosts = hostsAnswered(settings);
  const api = toNodeHandler(
    createHttpHandler(backend, {
      readOnly,
      logger,
      ...(authorize ? { authorize } : {}),
      ...(allowedHosts ? { allowedHosts } : {}),
      ...(settings.allowedOrigins ? { allowedOrigins: settings.allowedOrigins } : {}),
      ...(settings.addableTasks ? { addableTasks: settings.addableTasks } : {}),
    }),
  );
  // The queue list: the dashboard's first read, and what it cannot show anything without.
  const probes = dashboardProbes(
    () => backend.listQueues(),
    (health) =>
      health.status === "ok"
        ? note("the dashboard reads its backend again (/healthz answers 200)")
        : note(`${health.problem}: /healthz answers 503 until it does`),
  );
  const server = createServer((request, response) => {
    if (!probes.answer(request, response)) void api(request, response);
  });
  // A request whose headers or body trickle in (one byte at a time) does not hold its connection for minutes.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  // Event streams are capped at 100 by the handler; past this, connections are refused, not file descriptors spent.
  server.maxConnections = 1_000;
  limitConnectionsPerClient(server, CONNECTIONS_PER_CLIENT);
  try {
    await listenOrExplain(server, settings.port, settings.host, "the dashboard", "--port, --host");
  } catch (error) {
    await backend.disconnect().catch(() => undefined);
    throw error;
  }
  // Handled from the moment it listens: a signal while the banner and warnings are written
  // (a script that starts it and stops it once it reads the banner) closes it as any other.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // Event streams stay open until closed: end them so the server can close.
      server.closeAllConnections();
      server.close(() => resolve());
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  const { port } = server.address() as AddressInfo;
  const url = maskUrl(settings.backendUrl ?? "");
  const addresses = reachableAt(settings.host);
  console.log(
    `Sheppy dashboard on http://${addresses[0]}:${port}/ (backend ${url}${readOnly ? ", read-only" : ""}${login ? `, login as ${login.user}` : ""})`,
  );
  if (addresses.length > 1) {
    console.log(
      `also at ${addresses
        .slice(1)
        .map((a) => `http://${a}:${port}/`)
        .join(", ")}`,
    );
  }
  if (backend.capabilities.crossProcess === false) {
    note(
      `${url} keeps tasks inside this dashboard's own process: no worker or other program can reach them (use a redis:// or postgres:// URL)`,
    );
  }
  if (!LOOPBACK.has(settings.host) && !login) {
    note(
      readOnly
        ? `listening on ${settings.host} without a login: anyone who reaches this port can read every task's arguments, results and errors (set SHEPPY_DASHBOARD_PASSWORD, or use a proxy that authenticates)`
        : `listening on ${settings.host} without a login: anyone who reaches this port can read and change tasks (set SHEPPY_DASHBOARD_PASSWORD, use --read-only, or a proxy that authenticates)`,
    );
  } else if (allowedHosts?.includes("*") && !readOnly && !login) {
    note(
      "--allowed-hosts '*' answers under any host name: a web page whose own name resolves to this machine (DNS rebinding) can then change tasks through this dashboard (name the hosts, or use --read-only)",
    );
  }
  await stopped;
  await backend.disconnect().catch(() => undefined);
}
