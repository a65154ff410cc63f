/**
 * How a failed Redis call is read: never sent (Redis was not connected),
 * dropped on the way (whether Redis applied it is unknown; the session sends
 * it again when that is safe), or refused by Redis (its answer stands). The
 * messages are ioredis's own (5.x), so a rewording shows up here.
 */
import { describe, expect, test } from "vitest";
import { classify } from "../../src/backends/redis/session.js";

describe("reading a failed Redis call", () => {
  test.each([
    ["Stream isn't writeable and enableOfflineQueue options is false", "unsent"],
    ["Connection in subscriber mode, only subscriber commands may be used", "unsent"],
    ["Connection is closed.", "dropped"],
    ["Command timed out", "dropped"],
    ["read ECONNRESET", "dropped"],
    ["connect ECONNREFUSED 127.0.0.1:6390", "dropped"],
    ["ERR unknown command 'FOO'", "refused"],
    ["OOM command not allowed when used memory > 'maxmemory'.", "refused"],
    // A cluster refusing a command it did not run: safe to send again.
    ["CLUSTERDOWN The cluster is down", "unsent"],
    ["TRYAGAIN Multiple keys request during rehashing of slot", "unsent"],
    ["READONLY You can't write against a read only replica.", "unsent"],
    ["MOVED 7038 127.0.0.1:37357", "unsent"],
    ["ASK 7038 127.0.0.1:37357", "unsent"],
    ["Cluster isn't ready and enableOfflineQueue options is false", "unsent"],
    ["Failed to refresh slots cache.", "unsent"],
    [
      "Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down",
      "unsent",
    ],
    ["Too many Cluster redirections. Last error: Error: Connection is closed.", "dropped"],
    [
      "Too many Cluster redirections. Last error: ReplyError: ERR wrong number of arguments",
      "refused",
    ],
  ])("%s → %s", (message, failure) => {
    expect(classify(new Error(message))).toBe(failure);
  });

  test("a pipeline cut by a closing connection (ioredis's AbortError) was dropped, not refused", () => {
    // As ioredis's close handler builds it for pipelined commands after a partial reply.
    const aborted = Object.assign(new Error("Command aborted due to connection close"), {
      name: "AbortError",
    });
    expect(classify(aborted)).toBe("dropped");
  });

  test("a call that retried too often was dropped; anything thrown that is not an Error was refused", () => {
    const tooMany = Object.assign(new Error("Reached the max retries per request limit"), {
      name: "MaxRetriesPerRequestError",
    });
    expect(classify(tooMany)).toBe("dropped");
    expect(classify("a string")).toBe("refused");
  });
});
