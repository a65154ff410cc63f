/**
 * `basicAuth` and `bearerAuth`: ready-made `authorize` checks. The right
 * secret passes; any other gets a 401 that asks for it; a secret that is not
 * set is refused when the check is made, not compared with `undefined`.
 */
import fc from "fast-check";
import { InvalidOptionError, MemoryBackend } from "sheppy";
import { basicAuth, bearerAuth, createHttpHandler } from "sheppy/http";
import { describe, expect, it } from "vitest";
import { errorOf } from "../support/error-of.js";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
const asked = (authorization?: string) =>
  new Request("http://127.0.0.1/queues", {
    headers: authorization === undefined ? {} : { authorization },
  });

describe("basicAuth", () => {
  const check = basicAuth({ user: "ops", password: "s3cret" });

  it("lets the right login through; anything else is a 401 asking for a login", async () => {
    expect(check(asked(basic("ops", "s3cret")))).toBe(true);
    expect(check(asked(basic("ops", "s3cret").replace("Basic", "basic")))).toBe(true);
    for (const wrong of [
      undefined,
      "",
      basic("ops", "s3cre"),
      basic("ops", "s3cret!"),
      basic("Ops", "s3cret"),
      basic("ops:s3cret", ""),
      "Bearer s3cret",
      "Basic !!!",
    ]) {
      const answer = check(asked(wrong));
      expect(answer, String(wrong)).toBeInstanceOf(Response);
      const response = answer as Response;
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(
        'Basic realm="sheppy", charset="UTF-8"',
      );
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(await response.json()).toEqual({ error: "log in to see this" });
    }
  });

  it("property: any user and password round-trip; any other password is refused", () => {
    const user = fc.string({ minLength: 1 }).filter((u) => !u.includes(":"));
    const password = fc.string({ minLength: 1 });
    fc.assert(
      fc.property(user, password, password, (u, p, other) => {
        const login = basicAuth({ user: u, password: p });
        expect(login(asked(basic(u, p)))).toBe(true);
        if (other !== p) expect(login(asked(basic(u, other)))).toBeInstanceOf(Response);
      }),
    );
  });

  it("refuses to be made from a secret that is not set, or a user name a login cannot carry", () => {
    for (const [credentials, message] of [
      [
        { user: "ops", password: undefined },
        "basicAuth(): password must be a non-empty string (got undefined)",
      ],
      [{ user: "ops", password: "" }, "basicAuth(): password must be a non-empty string"],
      [{ user: "", password: "p" }, "basicAuth(): user must be a non-empty string"],
      [{ user: "a:b", password: "p" }, "basicAuth(): user 'a:b' holds ':'"],
      [{ user: "a", password: "p", realm: 'x"y' }, 'basicAuth(): realm "x\\"y" holds a quote'],
    ] as const) {
      const error = errorOf(() => basicAuth(credentials as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toContain(message);
      expect(error.message).not.toContain("\n");
    }
  });

  it("as a handler's authorize: the page and the API ask for the login", async () => {
    const backend = new MemoryBackend();
    const handler = createHttpHandler(backend, {
      authorize: basicAuth({ user: "ops", password: "pw" }),
    });
    expect((await handler(asked())).status).toBe(401);
    const page = await handler(new Request("http://127.0.0.1/"));
    expect(page.status).toBe(401);
    expect((await handler(asked(basic("ops", "pw")))).status).toBe(200);
    await backend.disconnect();
  });
});

describe("bearerAuth", () => {
  it("lets the right token through; anything else is a 401", async () => {
    const check = bearerAuth("t0ken");
    expect(check(asked("Bearer t0ken"))).toBe(true);
    for (const wrong of [undefined, "Bearer t0ke", "Bearer t0ken2", "t0ken", basic("x", "t0ken")]) {
      const answer = check(asked(wrong)) as Response;
      expect(answer.status, String(wrong)).toBe(401);
      expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="sheppy"');
    }
  });

  it("refuses an unset token in one line", () => {
    for (const token of [undefined, ""]) {
      const error = errorOf(() => bearerAuth(token as never));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(
        /^bearerAuth\(\): token must be a non-empty string \(got .*\): is the variable it comes from set\?$/,
      );
    }
  });
});
