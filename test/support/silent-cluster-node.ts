/**
 * A stand-in for a cluster node that never gives its slots: it answers
 * `INFO` as a cluster node would (`cluster_enabled:1`), `OK` to anything
 * else, and nothing at all to `CLUSTER …`. A cluster client's slot read of
 * it times out every time, however fast the machine, while a plain
 * connection finds a healthy cluster node.
 */
import { createServer, type Server, type Socket } from "node:net";

/** The commands in `buffer` (RESP arrays of bulk strings), and the bytes of a command not yet whole. */
function takeCommands(buffer: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const header = buffer.indexOf("\r\n", at);
    if (header < 0 || buffer[at] !== "*") break;
    const count = Number(buffer.slice(at + 1, header));
    const args: string[] = [];
    let next = header + 2;
    for (let i = 0; i < count; i++) {
      const lengthEnd = buffer.indexOf("\r\n", next);
      if (lengthEnd < 0) return { commands, rest: buffer.slice(at) };
      const length = Number(buffer.slice(next + 1, lengthEnd));
      const end = lengthEnd + 2 + length;
      if (buffer.length < end + 2) return { commands, rest: buffer.slice(at) };
      args.push(buffer.slice(lengthEnd + 2, end));
      next = end + 2;
    }
    commands.push(args);
    at = next;
  }
  return { commands, rest: buffer.slice(at) };
}

function answer(socket: Socket, command: readonly string[]): void {
  const name = (command[0] ?? "").toUpperCase();
  if (name === "CLUSTER") return;
  if (name === "INFO") {
    const info = "# Server\r\nloading:0\r\n# Cluster\r\ncluster_enabled:1\r\n";
    socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
    return;
  }
  socket.write("+OK\r\n");
}

export class SilentClusterNode {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async start(): Promise<SilentClusterNode> {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      socket.setEncoding("latin1");
      let pending = "";
      socket.on("data", (chunk: string) => {
        const { commands, rest } = takeCommands(pending + chunk);
        pending = rest;
        for (const command of commands) answer(socket, command);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return new SilentClusterNode(server, sockets, address.port);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
