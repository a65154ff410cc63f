/**
 * @module http/credentials
 * Ready-made `authorize` checks for `createHttpHandler`: a login a browser
 * asks for (HTTP Basic, for the dashboard) and a token an API client sends
 * (`Bearer`). Both compare in constant time, and both refuse to be built from
 * a secret that is not set — a check against `undefined` would let anyone in
 * or no one.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";

/** Headers of a 401, as the API's own answers carry them: JSON, never cached, never sniffed. */
const REFUSAL_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** Whether two texts are equal, in time that does not depend on where they first differ. */
function sameSecret(given: string, expected: string): boolean {
  // Digests first: timingSafeEqual needs equal lengths, and comparing lengths would tell the secret's.
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function requireSecret(value: unknown, where: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidOptionError(
      `${where} must be a non-empty string (got ${describeGiven(value)}): is the variable it comes from set?`,
    );
  }
  return value;
}

/** What a Basic login needs: the user name and password it accepts, and the realm a browser shows. */
export interface BasicAuthCredentials {
  readonly user: string;
  readonly password: string;
  /** Shown by the browser's login prompt (default `"sheppy"`). */
  readonly realm?: string;
}

/**
 * An `authorize` that asks for a login (HTTP Basic): a request with this
 * user and password passes; any other is answered 401 with
 * `WWW-Authenticate`, so a browser shows its login prompt and then sends
 * the login with every request to this origin — the dashboard's event
 * streams included. Serve it over HTTPS beyond this machine: Basic sends
 * the password with each request.
 */
export function basicAuth(
  credentials: BasicAuthCredentials,
): (request: Request) => true | Response {
  const user = requireSecret(credentials?.user, "basicAuth(): user");
  const password = requireSecret(credentials?.password, "basicAuth(): password");
  if (user.includes(":")) {
    throw new InvalidOptionError(
      `basicAuth(): user '${user}' holds ':', which Basic logins cannot carry in a user name`,
    );
  }
  const realm = credentials.realm ?? "sheppy";
  if (/["\\\r\n]/.test(realm)) {
    throw new InvalidOptionError(
      `basicAuth(): realm ${JSON.stringify(realm)} holds a quote, a backslash or a line break`,
    );
  }
  const expected = `${user}:${password}`;
  return (request) => {
    const header = request.headers.get("authorization") ?? "";
    const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    const given = match ? Buffer.from(match[1]!, "base64").toString("utf8") : "";
    if (match && sameSecret(given, expected)) return true;
    return new Response('{"error":"log in to see this"}\n', {
      status: 401,
      headers: {
        "www-authenticate": `Basic realm="${realm}", charset="UTF-8"`,
        ...REFUSAL_HEADERS,
      },
    });
  };
}

/**
 * An `authorize` for API clients: a request sending
 * `Authorization: Bearer <token>` with this token passes; any other is
 * answered 401. A browser never sends such a header by itself, so this does
 * not open the dashboard — use {@link basicAuth} or your app's session for that.
 */
export function bearerAuth(token: string): (request: Request) => true | Response {
  const expected = requireSecret(token, "bearerAuth(): token");
  return (request) => {
    const header = request.headers.get("authorization") ?? "";
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    if (match && sameSecret(match[1]!, expected)) return true;
    return new Response('{"error":"a valid bearer token is needed"}\n', {
      status: 401,
      headers: { "www-authenticate": 'Bearer realm="sheppy"', ...REFUSAL_HEADERS },
    });
  };
}
