/**
 * @module backends/builtin
 * Loads the built-in backends, so their URL schemes (`memory://`,
 * `redis://`, `rediss://`, `postgres://`, `postgresql://`, `sqlite://`) are
 * registered.
 * The package entry and the CLI import this; loading a backend's module
 * loads no driver library.
 */
import "./memory/index.js";
import "./redis/index.js";
import "./postgres/index.js";
import "./sqlite/index.js";
