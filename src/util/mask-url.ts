/**
 * @module util/mask-url
 * URLs made safe to print: credentials are masked before a URL appears in an
 * error, a log line or a banner.
 */

/** Strips a password from a URL for messages and banners. */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = "****";
    return url.toString();
  } catch {
    return raw.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:****@");
  }
}
