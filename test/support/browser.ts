/**
 * Headless Chromium for the dashboard's browser tests: Debian's `chromium`
 * driven by playwright-core (which never downloads a browser). Under CI=true
 * a missing browser fails the tests (`.ci/run` installs it); elsewhere they
 * are skipped with one line saying why.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { missingService } from "./services.js";

export const CHROMIUM = process.env.SHEPPY_TEST_CHROMIUM ?? "/usr/bin/chromium";

/** Whether the browser is there (throws under CI when it is not). */
export function requireChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  return missingService(
    "browser",
    `no Chromium at ${CHROMIUM} (apt-get install chromium, or set SHEPPY_TEST_CHROMIUM)`,
  );
}

/** Chromium, headless, with nothing reaching out to the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
