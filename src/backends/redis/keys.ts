/**
 * @module backends/redis/keys
 * Key layout. Every key of one queue carries the hash tag `{<prefix>:<queue>}`,
 * so a queue lives on one Redis Cluster slot and one Lua script may touch all
 * of its keys. Only the queue registry (for `listQueues`) is outside the tag.
 *
 * | key                      | type   | holds                                              |
 * |--------------------------|--------|----------------------------------------------------|
 * | `{p:q}:t:<id>`           | hash   | `d` = record JSON; `status`/`startedAt`/`finishedAt` overrides written by scripts; `f` = fence of the task's latest claim; `sf` = fence of its last settled claim; `x` = expiry (ms) of a finished record; `rq` = token of the call that added it (a resend is recognised); `cq` = `<token>/<n>` of the claim holding it (a lost claim is put back) |
 * | `{p:q}:all`              | set    | every task id of the queue                         |
 * | `{p:q}:pending`          | list   | claimable ids, FIFO (RPUSH / LPOP)                 |
 * | `{p:q}:wake`             | list   | at most one marker; idle workers block on it       |
 * | `{p:q}:scheduled`        | zset   | id → due time (ms): scheduled tasks and retries    |
 * | `{p:q}:processing`       | zset   | id → last lease renewal (server ms)                |
 * | `{p:q}:suspects`         | hash   | id → "renewal:time" of an expired claim a reclaim noted, awaiting confirmation |
 * | `{p:q}:done`             | hash   | id → finished status                               |
 * | `{p:q}:counts`           | hash   | finished status → count                            |
 * | `{p:q}:expires`          | zset   | finished id → expiry (ms); pruned by `prune-expired.lua` so `all`, `done` and `counts` stay exact |
 * | `{p:q}:crons`            | hash   | deterministic id → cron JSON                       |
 * | `{p:q}:rl:<key>:z / :h`  | zset/hash | rate-limit window state                         |
 * | `{p:q}:rlkeys`           | set    | every rate-limit key of the queue (for `clear`)    |
 * | `{p:q}:req:<token>`      | string | a non-idempotent script's answer, kept 1 min so a resend after a lost reply (ioredis re-sends on reconnect) replays it |
 * | `<p>:queues`             | set    | names of queues that have held tasks               |
 * | channel `<p>:finished:<q>` | pub/sub | ids of tasks that just finished (wakes `waitFor`) |
 */

export interface QueueKeys {
  /** Prefix of task hashes: append the id. */
  readonly task: string;
  readonly all: string;
  readonly pending: string;
  readonly wake: string;
  readonly scheduled: string;
  readonly processing: string;
  /** Expired claims a reclaim has noted, awaiting confirmation. */
  readonly suspects: string;
  readonly done: string;
  readonly counts: string;
  /** Finished ids by expiry time (ms). */
  readonly expires: string;
  readonly crons: string;
  /** Prefix of rate-limit keys: append the limit key. */
  readonly rateLimit: string;
  readonly rateLimitKeys: string;
  /** Prefix of request memo keys: append a request token. */
  readonly request: string;
  /** Pub/sub channel announcing finished task ids. */
  readonly finishedChannel: string;
}

export function queueKeys(prefix: string, queue: string): QueueKeys {
  const tag = `{${prefix}:${queue}}`;
  return {
    task: `${tag}:t:`,
    all: `${tag}:all`,
    pending: `${tag}:pending`,
    wake: `${tag}:wake`,
    scheduled: `${tag}:scheduled`,
    processing: `${tag}:processing`,
    suspects: `${tag}:suspects`,
    done: `${tag}:done`,
    counts: `${tag}:counts`,
    expires: `${tag}:expires`,
    crons: `${tag}:crons`,
    rateLimit: `${tag}:rl:`,
    rateLimitKeys: `${tag}:rlkeys`,
    request: `${tag}:req:`,
    finishedChannel: `${prefix}:finished:${queue}`,
  };
}

/** The registry of queue names for one prefix. */
export function queuesRegistryKey(prefix: string): string {
  return `${prefix}:queues`;
}
