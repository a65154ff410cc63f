/**
 * @module util/version
 * The package version (`sheppy --version`, the OpenAPI document), written
 * here rather than read from package.json at run time: a bundler that copies
 * Sheppy into an application's bundle leaves package.json behind, and the
 * file two folders up would then be another package's. A unit test keeps it
 * equal to package.json's.
 */

/** The installed Sheppy version. */
export const VERSION = "0.1.0";
