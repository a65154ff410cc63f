/** A `Logger` for tests that keeps every record it is given: its level, its fields and its message. */
import type { Logger } from "sheppy";

export interface LoggedRecord {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

export function recordingLogger(): { lines: LoggedRecord[]; logger: Logger } {
  const lines: LoggedRecord[] = [];
  const at =
    (level: string) =>
    (fields: object | string, msg?: string): void => {
      if (typeof fields === "string") lines.push({ level, fields: {}, msg: fields });
      else lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? "" });
    };
  return {
    lines,
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}
