/** `sheppy dashboard`: serves the API and the page, refuses bad options in one line, stops on SIGTERM. */
import { createServer, request } from "node:http";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { expectOneLineError, runCli, startDashboard, TASKS } from "../support/cli.js";
import { PrivateRedis } from "../support/private-redis.js";

describe("sheppy dashboard", () => {
  it("serves the page and the API on loopback until stopped", async () => {
    const server = await startDashboard(["-u", "memory://"]);
    expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(`${server.origin}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="sheppy-config"');
    expect(await (await fetch(`${server.origin}/queues`)).json()).toEqual({});
    await server.stop();
  });

  it("on loopback answers only loopback host names: a DNS-rebinding page's Host is refused, unless --allowed-hosts names it", async () => {
    const statusFor = (origin: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${origin}/queues`);
        request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } })
          .on("response", (answer) => {
            answer.resume();
            resolve(answer.statusCode ?? 0);
          })
          .on("error", reject)
          .end();
      });
    const server = await startDashboard(["-u", "memory://"]);
    const port = new URL(server.origin).port;
    expect(await statusFor(server.origin, `localhost:${port}`)).toBe(200);
    expect(await statusFor(server.origin, `127.0.0.1:${port}`)).toBe(200);
    expect(await statusFor(server.origin, `attacker.test:${port}`)).toBe(403);
    await server.stop();
    const named = await startDashboard(["-u", "memory://", "--allowed-hosts", "queues.internal"]);
    const namedPort = new URL(named.origin).port;
    expect(await statusFor(named.origin, `queues.internal:${namedPort}`)).toBe(200);
    expect(await statusFor(named.origin, `localhost:${namedPort}`)).toBe(403);
    await named.stop();
    // `*`: any name, a browser's request (Sec-Fetch-Site) included.
    const any = await startDashboard(["-u", "memory://", "--allowed-hosts", "*"]);
    const anyPort = new URL(any.origin).port;
    const fromBrowser = await new Promise<number>((resolve, reject) => {
      request({
        host: "127.0.0.1",
        port: anyPort,
        path: "/queues",
        headers: { host: `queues.example:${anyPort}`, "sec-fetch-site": "same-origin" },
      })
        .on("response", (answer) => {
          answer.resume();
          resolve(answer.statusCode ?? 0);
        })
        .on("error", reject)
        .end();
    });
    expect(fromBrowser).toBe(200);
    await any.stop();
    // Which is worth a warning on loopback, where it undoes the rebinding check; named hosts are not.
    expect(any.stderr()).toContain(
      "--allowed-hosts '*' answers under any host name: a web page whose own name resolves to this machine (DNS rebinding) can then change tasks",
    );
    expect(named.stderr()).not.toContain("--allowed-hosts");
  });

  it("answers the probes at /livez and /healthz without the login and under any host name; only GET and HEAD", async () => {
    const probe = (origin: string, path: string, method = "GET", host?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(`${origin}${path}`);
        request({
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method,
          ...(host ? { headers: { host } } : {}),
        })
          .on("response", (answer) => {
            let body = "";
            answer.setEncoding("utf8");
            answer.on("data", (chunk: string) => {
              body += chunk;
            });
            answer.on("end", () => resolve({ status: answer.statusCode ?? 0, body }));
          })
          .on("error", reject)
          .end();
      });
    const server = await startDashboard(["-u", "memory://", "--allowed-hosts", "queues.internal"], {
      SHEPPY_DASHBOARD_PASSWORD: "pw",
    });
    try {
      const { origin } = server;
      // What any other request gets: a login asked for, an unnamed host refused.
      expect((await probe(origin, "/queues", "GET", "queues.internal")).status).toBe(401);
      expect((await probe(origin, "/queues", "GET", "10.1.2.3")).status).toBe(403);
      expect(await probe(origin, "/healthz", "GET", "10.1.2.3")).toEqual({
        status: 200,
        body: '{"status":"ok"}\n',
      });
      expect(await probe(origin, "/livez", "GET", "10.1.2.3")).toEqual({
        status: 200,
        body: "ok\n",
      });
      expect(await probe(origin, "/healthz?verbose", "HEAD")).toEqual({ status: 200, body: "" });
      expect((await probe(origin, "/healthz", "POST")).status).toBe(405);
    } finally {
      await server.stop();
    }
  });

  it("/healthz answers 503 while the backend cannot be read (its server killed) and 200 again once it is back; each change said once", async () => {
    const redis = await PrivateRedis.start();
    const server = await startDashboard(["-u", redis.url]);
    const health = async () => {
      const answer = await fetch(`${server.origin}/healthz`);
      return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
    };
    try {
      expect(await health()).toEqual({ status: 200, body: { status: "ok" } });
      await redis.kill();
      await expect
        .poll(health, { timeout: 30_000, interval: 500 })
        .toMatchObject({ status: 503, body: { status: "failing" } });
      expect((await health()).body.problem).toMatch(
        /^the backend (did not answer within 5 s|cannot be read \(\w+\))$/,
      );
      await redis.start();
      await expect
        .poll(async () => (await health()).status, { timeout: 30_000, interval: 500 })
        .toBe(200);
      const said = server.stderr();
      expect(said.match(/\/healthz answers 503 until it does/g)).toHaveLength(1);
      expect(said.match(/reads its backend again/g)).toHaveLength(1);
    } finally {
      await server.stop();
      await redis.destroy();
    }
  });

  it("SHEPPY_DASHBOARD_PASSWORD asks for a login (HTTP Basic) on the page and the API; beyond loopback without one, it warns, read-only too", async () => {
    const login = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
    });
    const guarded = await startDashboard(["-u", "memory://"], {
      SHEPPY_DASHBOARD_PASSWORD: "pw",
      SHEPPY_DASHBOARD_USER: "ops",
    });
    const page = await fetch(`${guarded.origin}/`);
    expect(page.status).toBe(401);
    expect(page.headers.get("www-authenticate")).toMatch(/^Basic realm="sheppy"/);
    expect(
      (await fetch(`${guarded.origin}/queues`, { headers: login("ops", "nope") })).status,
    ).toBe(401);
    const queues = await fetch(`${guarded.origin}/queues`, { headers: login("ops", "pw") });
    expect(queues.status).toBe(200);
    await guarded.stop();
    const user = await runCli(["dashboard", "-u", "memory://", "--port", "0"], {
      SHEPPY_DASHBOARD_USER: "ops",
    });
    expect(expectOneLineError(user)).toContain(
      "SHEPPY_DASHBOARD_USER is set but SHEPPY_DASHBOARD_PASSWORD is not",
    );
    // Set but empty: a secret that did not render, not a wish to serve without a login.
    const empty = await runCli(["dashboard", "-u", "memory://", "--port", "0"], {
      SHEPPY_DASHBOARD_PASSWORD: "",
    });
    expect(expectOneLineError(empty, 2)).toBe(
      "error: SHEPPY_DASHBOARD_PASSWORD is set but empty: give it a password, or unset it to serve without a login",
    );
    // Listening on every interface without a login: reading alone shows every task's arguments.
    const open = await startDashboard(["-u", "memory://", "--host", "0.0.0.0", "--read-only"]);
    await open.stop();
    expect(open.stderr()).toContain(
      "listening on 0.0.0.0 without a login: anyone who reaches this port can read every task's arguments, results and errors",
    );
    const withLogin = await startDashboard(["-u", "memory://", "--host", "0.0.0.0"], {
      SHEPPY_DASHBOARD_PASSWORD: "pw",
    });
    await withLogin.stop();
    expect(withLogin.stderr()).not.toContain("without a login");
  });

  it("--log-format json writes every line of stderr as a JSON record, its warnings included", async () => {
    const server = await startDashboard([
      "-u",
      "memory://",
      "--host",
      "0.0.0.0",
      "--read-only",
      "--log-format",
      "json",
    ]);
    await server.stop();
    const lines = server
      .stderr()
      .split("\n")
      .filter((line) => line !== "");
    const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(records.map((r) => [r.level, r.msg.slice(0, 50)])).toEqual([
      [40, "memory:// keeps tasks inside this dashboard's own "],
      [40, "listening on 0.0.0.0 without a login: anyone who r"],
    ]);
  });

  it("one address holds at most 256 connections: one more is closed at once, and served again once they go", async () => {
    const server = await startDashboard(["-u", "memory://"]);
    const { hostname, port } = new URL(server.origin);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => resolve(socket));
        socket.once("error", reject);
      });
    const held: Socket[] = [];
    for (let i = 0; i < 256; i++) held.push(await open());
    const extra = await open();
    await new Promise<void>((resolve) => {
      extra.once("close", () => resolve());
      extra.on("error", () => undefined);
      extra.write("GET /queues HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    });
    expect(extra.destroyed).toBe(true);
    for (const socket of held) socket.destroy();
    await expect
      .poll(async () => (await fetch(`${server.origin}/queues`).catch(() => null))?.status)
      .toBe(200);
    await server.stop();
  });

  it("--addable-tasks limits the tasks added by name through the API", async () => {
    const server = await startDashboard([
      "-u",
      "memory://",
      "--tasks",
      TASKS,
      "--addable-tasks",
      "cli.add",
    ]);
    const add = (name: string) =>
      fetch(`${server.origin}/default/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, args: [1, 2] }),
      });
    expect((await add("cli.add")).status).toBe(201);
    const refused = await add("cli.fail");
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe(
      "task 'cli.fail' may not be added through this API (it may add: cli.add)",
    );
    await server.stop();
  });

  it("--allowed-origins lets another origin's page change tasks; a value that is not an origin is refused in one line", async () => {
    const server = await startDashboard([
      "-u",
      "memory://",
      "--allowed-origins",
      "https://admin.example.com",
    ]);
    const clear = (origin: string) =>
      fetch(`${server.origin}/default/tasks/clear`, {
        method: "POST",
        headers: { "content-type": "application/json", origin },
        body: "{}",
      });
    expect((await clear("https://admin.example.com")).status).toBe(200);
    const refused = await clear("https://other.example.com");
    expect(refused.status).toBe(403);
    await server.stop();
    expect(
      expectOneLineError(
        await runCli(["dashboard", "-u", "memory://", "--allowed-origins", "admin.example.com/x"]),
        2,
      ),
    ).toContain("'admin.example.com/x' is not an origin: write scheme://host[:port]");
  });

  it("in read-only mode refuses every change", async () => {
    const server = await startDashboard(["-u", "memory://", "--read-only"]);
    const refused = await fetch(`${server.origin}/default/tasks/clear`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(403);
    expect(await (await fetch(`${server.origin}/`)).text()).toContain("&quot;readOnly&quot;:true");
    await server.stop();
  });

  it("refuses a bad port, and a missing backend URL, in one line", async () => {
    expect(
      expectOneLineError(await runCli(["dashboard", "-u", "memory://", "--port", "70000"]), 2),
    ).toContain("--port");
    expect(expectOneLineError(await runCli(["dashboard"]), 2)).toContain("no backend URL");
    // A port another server holds: said as for the metrics endpoint, with the flags to change it;
    // it fails at run time (exit 1), the command line being right.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      expect(
        expectOneLineError(
          await runCli(["dashboard", "-u", "memory://", "--port", String(port)]),
          1,
        ),
      ).toBe(
        `error: cannot serve the dashboard on 127.0.0.1:${port}: EADDRINUSE (see --port, --host)`,
      );
    } finally {
      taken.close();
    }
  });
});
