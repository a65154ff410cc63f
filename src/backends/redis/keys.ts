/**
 * @module backends/redis/keys
 * Key layout. Every key of one queue carries the hash tag `{<prefix>:<queue>}`,
 * so a queue lives on one Redis Cluster slot and one Lua script may touch all
 * of its keys. Only the queue registry (for `listQueues`) is outside the tag.
 *
 * | key                      | type   | holds                                              |
 * |--------------------------|--------|----------------------------------------------------|
 * | `{p:q}:t:<id>`           | hash   | `d` = record JSON; `status` = its status, written with `d` and changed by scripts without rewriting it (records of earlier versions may lack it: their JSON's counts); `startedAt`/`finishedAt` overrides written by scripts; `f` = fence of the task's latest claim; `sf` = fence of its last settled claim; `x` = expiry (ms) of a finished record; `rq` = token of the call that added it (a resend is recognised); `pr` = priority (absent: 0); `ck` / `cl` = concurrency key and limit; `cs` = `t` while it takes one of its key's slots, `h` while held for one |
 * | `{p:q}:ids`              | zset   | every task id of the queue → its record's creation time (ms); equal times order by id (byte order), so `listTasks` walks it newest first from any (time, id) |
 * | `{p:q}:all`              | set    | every task id, as versions before `ids` kept them; moved into `ids` and deleted on connect (`./legacy-index.ts`) |
 * | `{p:q}:pending`          | list   | claimable ids, FIFO (RPUSH / LPOP)                 |
 * | `{p:q}:wake`             | list   | at most one marker; idle workers block on it       |
 * | `{p:q}:wake:stop:<token>` | list | pushed to when a waiting claim's signal aborts, ending that one wait; expires after 10 s |
 * | `{p:q}:paused`           | string | present while the queue is paused: claims take nothing |
 * | `{p:q}:cap`              | string | the queue's concurrency cap, while it has one: claims take at most it less the claims held |
 * | `{p:q}:pending:slots`    | hash   | concurrency key → slots its claimable and claimed tasks take |
 * | `{p:q}:pending:held:<key>` | list | ids held for a slot of the key, oldest first (`scripts/lib/slots.lua`) |
 * | `{p:q}:pending:heldn`    | string | how many tasks are held, over every key (stats count them pending) |
 * | `{p:q}:scheduled`        | zset   | id → due time (ms): scheduled tasks and retries    |
 * | `{p:q}:processing`       | zset   | id → last lease renewal (server ms)                |
 * | `{p:q}:processing:fence` | string | the queue's fence counter: every claim and takeover takes its fence from it (`scripts/claim.lua`); kept by `clear` |
 * | `{p:q}:processing:fences` | hash | claimed id → `<fence>/<token>/<n>`: its claim's fence (followed by `r` when its settle must read the task's hash), the claim's request token and the task's place in it (a lost claim is put back); a takeover lists `<fence>r` alone (`scripts/claim.lua`) |
 * | `{p:q}:suspects`         | hash   | id → "renewal:time" of an expired claim a reclaim noted, awaiting confirmation |
 * | `{p:q}:done`             | hash   | id → finished status                               |
 * | `{p:q}:counts`           | hash   | finished status → count                            |
 * | `{p:q}:expires`          | zset   | completed id → expiry (ms); pruned by `prune-expired.lua` so `ids`, `done` and `counts` stay exact |
 * | `{p:q}:expires:errors`   | zset   | failed, crashed or cancelled id → expiry (ms); bounded by `maxFailed` apart from the completed ones (`maxFinished`) |
 * | `{p:q}:crons`            | hash   | deterministic id → cron JSON                       |
 * | `{p:q}:dedupe`           | hash   | dedupe key → `<until>:<task id>` of the task holding it (`until`: end of its window in ms, empty for none) |
 * | `{p:q}:dedupe:check`     | zset   | dedupe key → when `prune-dedupe.lua` next looks at it (ms) |
 * | `{p:q}:w:<id>`           | hash   | a workflow: `d` = record JSON; `st` = its status and `fa` = its finish time (they win over the JSON's); `n` = its step count; `x` = expiry (ms) once finished; `rq` = token of the call that added it; `o:<task id>` = the finished record of each step |
 * | `{p:q}:wp:<id>`          | set    | task ids of the steps a running workflow waits for |
 * | `{p:q}:wfs` / `:wfrun`   | set    | every workflow id / the running ones               |
 * | `{p:q}:wfexp`            | zset   | finished workflow id → expiry (ms)                 |
 * | `{p:q}:rl:<key>:z / :h`  | zset/hash | rate-limit window state                         |
 * | `{p:q}:rlkeys`           | set    | every rate-limit key of the queue (for `clear`)    |
 * | `{p:q}:events`           | stream | the queue's lifecycle event log: one entry per write that appends, fields `b` = its bodies in order, one position per body (the entry's id is its last body's); at most `eventCap` events readable (`scripts/lib/events.lua`); emptied, not deleted, by `clear` |
 * | `{p:q}:events:at`        | hash   | the event log's numbering: `m` (the ms part its positions share), `top` and `low` (the newest and the oldest readable sequence), `old` (entries of one body each an earlier version wrote, still kept); kept by `clear`, so positions never repeat |
 * | `{p:q}:records`         | string | the newest task-record version written to the queue, set by a version whose records an earlier one cannot read before it writes the first (absent: 4 or earlier); claims and takeovers of a process that reads only older ones refuse the queue (`scripts/claim.lua`) |
 * | `{p:q}:moving`          | —      | never written: every script call names it last, so none runs while the queue's slot moves between cluster nodes (`./scripts.ts`) |
 * | `{p:q}:workers`          | zset   | id of each worker serving the queue → when its announcement lapses (server ms) |
 * | `{p:q}:workers:seen`     | hash   | worker id → `<ms>:<body>`: when it last announced itself (server ms) and what it said; both keys expire once every announcement has lapsed |
 * | `{p:q}:req:<token>`      | string | a non-idempotent script's answer, kept 1 min so a resend after a lost reply (ioredis re-sends on reconnect) replays it |
 * | `<p>:queues`             | set    | names of queues that have held tasks               |
 * | `<p>:format`             | string | the layout of the prefix's data, once a version that changes it has written (absent: 1); a process that knows only lower ones refuses it (`./data-format.ts`) |
 * | channel `<p>:finished:<q>` | pub/sub | ids of tasks and workflows that just finished (wakes `waitFor`) |
 */

export interface QueueKeys {
  /** Prefix of task hashes: append the id. */
  readonly task: string;
  /** Every task id by its record's creation time (ms). */
  readonly ids: string;
  /** The set of ids versions before `ids` kept: migrated on connect. */
  readonly legacyIds: string;
  readonly pending: string;
  readonly wake: string;
  /** Present while the queue is paused. */
  readonly paused: string;
  /** The queue's concurrency cap, while it has one. */
  readonly concurrencyCap: string;
  readonly scheduled: string;
  readonly processing: string;
  /** Expired claims a reclaim has noted, awaiting confirmation. */
  readonly suspects: string;
  readonly done: string;
  readonly counts: string;
  /** Finished ids by expiry time (ms). */
  readonly expires: string;
  readonly crons: string;
  /** Dedupe key → the task holding it. */
  readonly dedupe: string;
  /** Dedupe keys by when a prune next looks at them (ms). */
  readonly dedupeChecks: string;
  /** Prefix of rate-limit keys: append the limit key. */
  readonly rateLimit: string;
  readonly rateLimitKeys: string;
  /** The lifecycle event log (a stream). */
  readonly events: string;
  /** Workers serving the queue → when their announcement lapses (ms). */
  readonly workers: string;
  /** Worker id → when it last announced itself and what it said. */
  readonly workersSeen: string;
  /** Prefix of request memo keys: append a request token. */
  readonly request: string;
  /** Pub/sub channel announcing finished task (and workflow) ids. */
  readonly finishedChannel: string;
  /** The newest task-record version written to the queue, when newer than 4 (see `scripts/claim.lua`). */
  readonly recordsVersion: string;
  /** Prefix of workflow hashes: append the id. */
  readonly workflow: string;
  /** Prefix of the sets of steps a workflow waits for: append the id. */
  readonly workflowPending: string;
  readonly workflows: string;
  readonly runningWorkflows: string;
  /** Finished workflow ids by expiry time (ms). */
  readonly workflowExpires: string;
}

export function queueKeys(prefix: string, queue: string): QueueKeys {
  const tag = `{${prefix}:${queue}}`;
  return {
    task: `${tag}:t:`,
    ids: `${tag}:ids`,
    legacyIds: `${tag}:all`,
    pending: `${tag}:pending`,
    wake: `${tag}:wake`,
    paused: `${tag}:paused`,
    concurrencyCap: `${tag}:cap`,
    scheduled: `${tag}:scheduled`,
    processing: `${tag}:processing`,
    suspects: `${tag}:suspects`,
    done: `${tag}:done`,
    counts: `${tag}:counts`,
    expires: `${tag}:expires`,
    crons: `${tag}:crons`,
    dedupe: `${tag}:dedupe`,
    dedupeChecks: `${tag}:dedupe:check`,
    rateLimit: `${tag}:rl:`,
    rateLimitKeys: `${tag}:rlkeys`,
    events: `${tag}:events`,
    workers: `${tag}:workers`,
    workersSeen: `${tag}:workers:seen`,
    request: `${tag}:req:`,
    finishedChannel: `${prefix}:finished:${queue}`,
    recordsVersion: `${tag}:records`,
    workflow: `${tag}:w:`,
    workflowPending: `${tag}:wp:`,
    workflows: `${tag}:wfs`,
    runningWorkflows: `${tag}:wfrun`,
    workflowExpires: `${tag}:wfexp`,
  };
}

/** The registry of queue names for one prefix. */
export function queuesRegistryKey(prefix: string): string {
  return `${prefix}:queues`;
}

/** The key naming the layout of the prefix's data (`./data-format.ts`). */
export function dataFormatKey(prefix: string): string {
  return `${prefix}:format`;
}
