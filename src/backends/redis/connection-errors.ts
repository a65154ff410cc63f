/**
 * @module backends/redis/connection-errors
 * Why a Redis backend cannot connect, said in one line with the URL masked.
 *
 * ioredis rejects a failed `connect()` with "Connection is closed." whatever
 * went wrong; the real cause (a refused password, an untrusted certificate, a
 * database the server does not have) only comes as an 'error' event. The first
 * connection listens for those and fails as soon as one is not transient: a
 * retry cannot fix a wrong password, and a refused SELECT would otherwise leave
 * the client on database 0 while it believes it is on the one asked for.
 *
 * One failure sends no error at all: a TLS client talking to a plaintext
 * server waits for a handshake answer that never comes, until ioredis's
 * `connectTimeout` (10 s). When a TLS handshake is still pending after a short
 * while, a plain `PING` on a second socket tells whether the server speaks
 * plaintext; a TLS server does not answer it with a Redis reply.
 *
 * A database part that is not a number is refused when the backend is
 * created, before any connection: ioredis would read it as `NaN` and crash the
 * process with an unhandled SELECT error once connected.
 */
import { connect as connectSocket } from "node:net";
import type { Redis } from "ioredis";
import { BackendUnavailableError, BackendUrlError } from "../../errors.js";
import { maskUrl } from "../../util/mask-url.js";
import { userInfoHint } from "../../util/url-userinfo.js";

/** How long a TLS handshake may stay unanswered before the plaintext probe runs, and how long the probe waits. */
const PROBE_AFTER_MS = 500;
const PROBE_TIMEOUT_MS = 1000;

/** What the URL and options asked for, to word the cause and its hint. */
interface Target {
  readonly maskedUrl: string;
  readonly tls: boolean;
  readonly tlsFromScheme: boolean;
  readonly db: number;
}

interface Failure {
  readonly cause: string;
  /** Retrying cannot help: fail the first connect now instead of waiting for the connection to close. */
  readonly permanent: boolean;
}

/** Certificate codes that mean "not signed by a CA this process trusts". */
const UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().replace(/\.$/, "");
}

function notTls(target: Target): Failure {
  const hint = target.tlsFromScheme
    ? "use redis:// instead of rediss://"
    : "turn off redisOptions.tls";
  return {
    cause: `TLS handshake failed: the server does not speak TLS (${hint})`,
    permanent: true,
  };
}

function explainReply(message: string, target: Target): Failure {
  const raw = oneLine(message);
  if (/^(WRONGPASS|ERR invalid password)/i.test(raw)) {
    return { cause: `authentication failed (${raw})`, permanent: true };
  }
  if (/^NOAUTH/.test(raw)) {
    return {
      cause: `the server requires a password and the URL gives none (${raw})`,
      permanent: true,
    };
  }
  if (/DB index is out of range/i.test(raw)) {
    return { cause: `the server has no database ${target.db} (${raw})`, permanent: true };
  }
  if (/SELECT is not allowed in cluster mode/i.test(raw)) {
    return { cause: `a cluster node has only database 0 (${raw})`, permanent: true };
  }
  return { cause: `the server refused the connection (${raw})`, permanent: true };
}

/** The one-line cause of an error seen during the first connect. */
function explain(error: Error, target: Target): Failure {
  if (error.name === "ReplyError") return explainReply(error.message, target);
  const code = (error as { code?: unknown }).code;
  const raw = oneLine(error.message);
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number/i.test(raw)) {
    return notTls(target);
  }
  if (typeof code === "string" && UNTRUSTED.has(code)) {
    return {
      cause: `TLS handshake failed: ${raw} (set redisOptions.tls, or NODE_EXTRA_CA_CERTS, to trust it)`,
      permanent: true,
    };
  }
  if (typeof code === "string" && /CERT|^ERR_TLS_|^ERR_SSL_|^EPROTO$/.test(code)) {
    return { cause: `TLS handshake failed: ${raw}`, permanent: true };
  }
  switch (code) {
    case "ECONNREFUSED":
      return { cause: `connection refused (${raw})`, permanent: false };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { cause: `unknown host (${raw})`, permanent: false };
    case "ETIMEDOUT":
      return { cause: `no answer (${raw})`, permanent: false };
    case "ECONNRESET":
    case "EPIPE":
      return {
        cause: `${SERVER_CLOSED} (${raw})${tlsHint(target)}`,
        permanent: false,
      };
    default:
      return { cause: raw, permanent: false };
  }
}

/**
 * Why one Redis Cluster seed could not be used, in the words a single server's
 * first connect uses (a missing or wrong password, an unknown host, a refused
 * port, TLS).
 */
export function explainSeedFailure(error: Error, tls: boolean): string {
  return explain(error, { maskedUrl: "", tls, tlsFromScheme: tls, db: 0 }).cause;
}

/** A plaintext client dropped by a TLS-only server sees its connection close without a word. */
function tlsHint(target: Target): string {
  return target.tls ? "" : "; if it requires TLS, use rediss://";
}

/**
 * Removes the password ioredis attaches to a refused AUTH or HELLO (as
 * `error.command.args`), so logging the error or its cause cannot show it.
 */
export function withoutSecrets<T>(error: T): T {
  const command = (error as { command?: { name?: unknown; args?: unknown } } | null)?.command;
  if (command && /^(auth|hello)$/i.test(String(command.name)) && Array.isArray(command.args)) {
    command.args = command.args.map(() => "****");
  }
  return error;
}

/**
 * Refuses a `redis://` / `rediss://` URL ioredis would misread: one `new
 * URL()` cannot parse, or a database (the path, or a `db` parameter) that is
 * not a whole number. Other forms ioredis accepts (`host:port`, a socket path)
 * are left to it.
 */
export function checkRedisUrl(url: string): void {
  if (!/^rediss?:\/\//i.test(url)) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BackendUrlError(
      `Invalid Redis URL '${maskUrl(url)}': it cannot be parsed as a URL${userInfoHint(url)}`,
    );
  }
  const databases = [parsed.pathname.slice(1), parsed.searchParams.get("db") ?? ""];
  if (databases.some((db) => db !== "" && !/^\d+$/.test(db))) {
    // Only the masked URL is shown: a password with a raw '/' ends up in the path.
    throw new BackendUrlError(
      `Invalid Redis URL '${maskUrl(url)}': the database must be a number, as in redis://host:6379/0`,
    );
  }
}

/** Whether a plaintext Redis answers on host:port (any RESP status or error reply to PING). */
function answersPlaintext(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectSocket({ host, port });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (chunk: Buffer) => done(/^[+-]/.test(chunk.toString("latin1"))));
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

/** The causes given when the server closed the first connection without a word, or reset it. */
const CLOSED_BEFORE_ANSWER = "the connection closed before Redis answered";
const SERVER_CLOSED = "the server closed the connection";

/**
 * Whether a first connect failed only because the server closed or reset the
 * connection: a server that wants TLS does that every time, but so does a
 * connection cut by chance (a restart, a killed client) — worth a retry.
 */
export function closedBeforeAnswer(error: unknown): boolean {
  return (
    error instanceof BackendUnavailableError &&
    (error.message.includes(CLOSED_BEFORE_ANSWER) || error.message.includes(SERVER_CLOSED))
  );
}

/**
 * Connects `client` (created with `lazyConnect`) for the first time. On
 * failure it closes the client and rejects with a one-line
 * `BackendUnavailableError` naming the masked URL and the cause. The client's
 * retry strategy applies from the first success on.
 */
export async function connectFirst(client: Redis, url: string, withinMs: number): Promise<void> {
  const { options } = client;
  const target: Target = {
    maskedUrl: maskUrl(url),
    tls: Boolean(options.tls),
    tlsFromScheme: /^rediss:/i.test(url),
    db: options.db ?? 0,
  };
  // No reconnect while connecting: ioredis rejects connect() at the first close anyway, and a
  // pending reconnect would keep the process alive after the failure has been reported.
  const retryStrategy = options.retryStrategy;
  options.retryStrategy = () => null;

  let failure: Failure | undefined;
  let failedWith: unknown;
  let lastError: Error | undefined;
  let stopWaiting = () => {};
  const failedEarly = new Promise<void>((resolve) => {
    stopWaiting = resolve;
  });
  const onError = (error: Error) => {
    lastError = error;
    const explained = explain(error, target);
    if (!explained.permanent || failure) return;
    failure = explained;
    failedWith = error;
    stopWaiting();
  };
  client.on("error", onError);
  const connecting = client.connect().then(
    () => undefined,
    (error: unknown) => {
      if (failure) return;
      failure = lastError
        ? explain(lastError, target)
        : {
            cause: `${CLOSED_BEFORE_ANSWER}${tlsHint(target)}`,
            permanent: false,
          };
      failedWith = lastError ?? error;
    },
  );
  const { host, port, path } = options;
  const probe =
    target.tls && host && port && !path && !options.sentinels
      ? setTimeout(() => {
          void answersPlaintext(host, port).then((plaintext) => {
            if (!plaintext || failure) return;
            failure = notTls(target);
            // connect() would go on waiting for a handshake answer until connectTimeout.
            client.disconnect();
            stopWaiting();
          });
        }, PROBE_AFTER_MS)
      : undefined;

  // A server that takes the connection but answers nothing (paused) would hold the start for
  // the handshake's every command timeout in turn (22 s at 10 s each): one bound in all.
  const bound = setTimeout(() => {
    if (failure) return;
    failure = {
      cause: `it took the connection but did not answer within ${withinMs / 1000} s (the server paused or overloaded)`,
      permanent: true,
    };
    client.disconnect();
    stopWaiting();
  }, withinMs);
  await Promise.race([connecting, failedEarly]);
  clearTimeout(bound);
  clearTimeout(probe);
  client.off("error", onError);
  if (!failure) {
    options.retryStrategy = retryStrategy;
    return;
  }
  // Closed once connect() has settled: ioredis still answers its own pending handshake commands
  // after a failure, and ending a client whose socket is already gone holds the process for
  // its disconnectTimeout (a timer only the socket's close event clears).
  void connecting.then(() => {
    if (client.status !== "end") client.disconnect();
  });
  throw new BackendUnavailableError(
    `cannot connect to Redis at ${target.maskedUrl}: ${failure.cause}`,
    failedWith === undefined ? undefined : { cause: withoutSecrets(failedWith) },
  );
}
