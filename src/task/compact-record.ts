/**
 * @module task/compact-record
 * The compact stored form of a task record (version 3): the version-2
 * record with every field that holds its default left out — no arguments,
 * no result, no error, the default options, the instants not reached yet,
 * no retries, priority 0, no metadata. A no-op task's record shrinks from
 * about 520 bytes to about 110, which is what a store holding many tasks
 * keeps, sends and parses per task. Reading puts the defaults back, so a
 * reader always gets the whole record.
 */
import { msOfIso } from "../clock.js";
import { TASK_DATA_VERSION, type TaskData } from "./task-record.js";

/** The version a compact record is stored under. */
export const COMPACT_RECORD_VERSION = 3;

/** Top-level fields left out while they hold these values (`null` or 0). */
const PLAIN_DEFAULTS: ReadonlyMap<string, null | number> = new Map<string, null | number>([
  ["result", null],
  ["error", null],
  ["scheduledAt", null],
  ["startedAt", null],
  ["finishedAt", null],
  ["retryCount", 0],
  ["lastRetryAt", null],
  ["nextRetryAt", null],
  ["workflowId", null],
  ["cronId", null],
  ["priority", 0],
  ["concurrencyKey", null],
]);

/** The options of a task defined with none; left out of a compact record while they hold these values (`ttl` and `errorTtl` are always kept as given). */
export const CONFIG_DEFAULTS = {
  retry: 0,
  retryDelay: 1,
  timeout: null,
  retryOnTimeout: false,
  retryOnCrash: false,
  rateLimit: null,
} as const;
const CONFIG_DEFAULT_OF: ReadonlyMap<string, unknown> = new Map(Object.entries(CONFIG_DEFAULTS));

const isEmptyObject = (value: unknown): boolean => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  for (const _ in value) return false;
  return true;
};

/** How a store that keeps some fields beside the record wants its compact form. */
export interface StoredFormOptions {
  /** Fields the store keeps elsewhere (its id in the key, its status in a field of its own). */
  readonly leaveOut?: ReadonlySet<string> | undefined;
  /** The version the store marks this form with (default 3). */
  readonly version?: number | undefined;
  /** Instants written as epoch milliseconds where that reads back as the same text. */
  readonly instantsAsNumbers?: boolean | undefined;
}

/** The record's instant fields (ISO text or null). */
export const INSTANT_FIELD_NAMES = [
  "createdAt",
  "scheduledAt",
  "startedAt",
  "finishedAt",
  "lastRetryAt",
  "nextRetryAt",
] as const;
export const INSTANT_FIELDS: ReadonlySet<string> = new Set(INSTANT_FIELD_NAMES);

/** The one shape `toISOString()` writes for years 0–9999: `2026-12-02T07:41:22.472Z`. */
const CANONICAL_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * `text` as epoch ms when `toISOString()` of that gives `text` back; else
 * `text` itself. Runs for every record a store writes this way, so it checks
 * the shape and the day (a date past its month's end is not that date)
 * instead of writing the text back to compare.
 */
function instantNumber(text: string): number | string {
  // The records of one add share their creation time: the answer for the last text is kept.
  if (text === lastInstantText) return lastInstantForm;
  let form: number | string = text;
  if (text.length === 24 && CANONICAL_INSTANT.test(text)) {
    const ms = msOfIso(text);
    if (Number.isFinite(ms) && new Date(ms).getUTCDate() === Number(text.slice(8, 10))) form = ms;
  }
  lastInstantText = text;
  lastInstantForm = form;
  return form;
}
let lastInstantText = "";
let lastInstantForm: number | string = "";

/** What {@link compactTaskData} does with one top-level field (absent from a store's rules: copy it). */
interface FieldRule {
  /** Always left out (the version, or kept beside the record by the store). */
  readonly skip: boolean;
  /** Written as epoch ms where that reads back as the same text. */
  readonly instant: boolean;
  /** Left out while it holds `defaultValue`. */
  readonly hasDefault: boolean;
  readonly defaultValue: null | number | undefined;
  /** Left out while empty (`args`, `meta`), or compacted itself (`config`). */
  readonly kind: "args" | "meta" | "config" | null;
}

/**
 * Each field's rule under `options`, so the walk over a record looks each
 * field up once (it runs for every record a store writes). Built once per
 * options object: the stores pass constants.
 */
function fieldRules(options: StoredFormOptions | undefined): ReadonlyMap<string, FieldRule> {
  const cached = options === undefined ? defaultRules : rulesByOptions.get(options);
  if (cached) return cached;
  const rules = new Map<string, FieldRule>();
  const rule = (key: string, given: Partial<FieldRule>) =>
    rules.set(key, {
      skip: false,
      instant: false,
      hasDefault: false,
      defaultValue: undefined,
      kind: null,
      ...rules.get(key),
      ...given,
    });
  for (const [key, value] of PLAIN_DEFAULTS) rule(key, { hasDefault: true, defaultValue: value });
  if (options?.instantsAsNumbers === true)
    for (const key of INSTANT_FIELDS) rule(key, { instant: true });
  rule("args", { kind: "args" });
  rule("meta", { kind: "meta" });
  rule("config", { kind: "config" });
  for (const key of options?.leaveOut ?? []) rule(key, { skip: true });
  rule("v", { skip: true });
  if (options === undefined) defaultRules = rules;
  else rulesByOptions.set(options, rules);
  return rules;
}
let defaultRules: ReadonlyMap<string, FieldRule> | undefined;
const rulesByOptions = new WeakMap<StoredFormOptions, ReadonlyMap<string, FieldRule>>();

/**
 * `data` without the fields that hold their defaults, marked as version 3 (a
 * new object; `data` is not changed), or as a store asks (`options`).
 */
export function compactTaskData(
  data: TaskData,
  options?: StoredFormOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = { v: options?.version ?? COMPACT_RECORD_VERSION };
  const rules = fieldRules(options);
  const fields = data as unknown as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    const rule = rules.get(key);
    if (rule === undefined) {
      out[key] = value;
      continue;
    }
    if (rule.skip) continue;
    if (rule.instant && typeof value === "string") {
      out[key] = instantNumber(value);
      continue;
    }
    if (rule.hasDefault && rule.defaultValue === value) continue;
    if (rule.kind === "args" && Array.isArray(value) && value.length === 0) continue;
    if (rule.kind === "meta" && isEmptyObject(value)) continue;
    if (rule.kind === "config") {
      const config = compactConfig(value);
      if (config !== undefined) out.config = config;
      continue;
    }
    out[key] = value;
  }
  return out;
}

function compactConfig(config: unknown): unknown {
  if (typeof config !== "object" || config === null || Array.isArray(config)) return config;
  const given = config as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in given) {
    const value = given[key];
    if (CONFIG_DEFAULT_OF.has(key) && CONFIG_DEFAULT_OF.get(key) === value) continue;
    out ??= {};
    out[key] = value;
  }
  return out;
}

/** Fields the expanded record is built with, in the order a new record has them. */
const CORE_FIELDS: ReadonlySet<string> = new Set([
  "v",
  "id",
  "name",
  "args",
  "status",
  "result",
  "error",
  "config",
  "createdAt",
  "scheduledAt",
  "startedAt",
  "finishedAt",
  "retryCount",
  "lastRetryAt",
  "nextRetryAt",
  "workflowId",
  "cronId",
  "priority",
  "concurrencyKey",
  "meta",
]);

const valueOr = (raw: Record<string, unknown>, key: string, fallback: unknown): unknown =>
  raw[key] === undefined ? fallback : raw[key];

/**
 * A version-2 copy of a compact record `raw`, every field left out put back
 * at its default. Built as one literal in a new record's field order, then
 * the optional fields: every record read this way has the same shape, which
 * keeps the code that handles records fast (a spread of varying fields would
 * give each combination a shape of its own).
 */
export function expandCompactRecord(raw: Record<string, unknown>): Record<string, unknown> {
  const config = raw.config;
  const expanded: Record<string, unknown> = {
    v: TASK_DATA_VERSION,
    id: raw.id,
    name: raw.name,
    args: valueOr(raw, "args", []),
    status: raw.status,
    result: valueOr(raw, "result", null),
    error: valueOr(raw, "error", null),
    config:
      config === undefined
        ? { ...CONFIG_DEFAULTS }
        : typeof config === "object" && config !== null && !Array.isArray(config)
          ? { ...CONFIG_DEFAULTS, ...config }
          : config,
    createdAt: raw.createdAt,
    scheduledAt: valueOr(raw, "scheduledAt", null),
    startedAt: valueOr(raw, "startedAt", null),
    finishedAt: valueOr(raw, "finishedAt", null),
    retryCount: valueOr(raw, "retryCount", 0),
    lastRetryAt: valueOr(raw, "lastRetryAt", null),
    nextRetryAt: valueOr(raw, "nextRetryAt", null),
    workflowId: valueOr(raw, "workflowId", null),
    cronId: valueOr(raw, "cronId", null),
    priority: valueOr(raw, "priority", 0),
    concurrencyKey: valueOr(raw, "concurrencyKey", null),
    meta: valueOr(raw, "meta", {}),
  };
  for (const key in raw) if (!CORE_FIELDS.has(key)) expanded[key] = raw[key];
  return expanded;
}
