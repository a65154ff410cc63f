/** A `Logger` for tests that keeps the message of every warning (and, asked to, every error) it is given. */
import type { Logger } from "sheppy";

export function warningLogger(options: { andErrors?: boolean } = {}): Logger & {
  warnings: string[];
} {
  const warnings: string[] = [];
  const ignore = () => undefined;
  const keep = (objOrMsg: object | string, msg?: string) => {
    warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
  };
  return {
    warnings,
    debug: ignore,
    info: ignore,
    warn: keep,
    error: options.andErrors ? keep : ignore,
  };
}
