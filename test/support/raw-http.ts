/**
 * A request sent as raw bytes: what `fetch` will not send (a Host header that
 * is no host, a dot segment it would resolve, a method a web Request cannot
 * carry), and the answer as the server wrote it.
 */
import { connect } from "node:net";

/** The whole answer to `request` (HTTP/1.1 text) sent to 127.0.0.1:`port`, read until the server closes. */
export function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = connect(port, "127.0.0.1", () => socket.end(request));
    socket.on("data", (chunk) => {
      answer += String(chunk);
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
  });
}

/** The status line answered to `request`. */
export async function rawStatusLine(port: number, request: string): Promise<string> {
  return (await rawExchange(port, request)).split("\r\n")[0] ?? "";
}

/** The status and body answered to `request` (a body sent with a length, not chunked). */
export async function rawAnswer(
  port: number,
  request: string,
): Promise<{ status: number; body: string }> {
  const [head = "", body = ""] = (await rawExchange(port, request)).split("\r\n\r\n", 2);
  return { status: Number(head.split(" ")[1]), body };
}
