/**
 * @module util/version
 * The package version `sheppy --version` prints, read from the package.json
 * next to the built files (`dist/util/` → `../../package.json`).
 */
import { readFileSync } from "node:fs";

/** The installed Sheppy version. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
