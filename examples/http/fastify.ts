/**
 * The HTTP API and the dashboard inside a Fastify app, under /sheppy.
 *   npx tsx examples/http/fastify.ts           serves http://127.0.0.1:3000/sheppy/
 *   npx tsx examples/http/fastify.ts --check   asks it for the queue list once, prints it, exits
 * The queue is in memory here; give a Redis URL (SHEPPY_BACKEND_URL) to watch real workers.
 */
import Fastify from "fastify";
import { Queue } from "sheppy";
import { createHttpHandler, fastifyPlugin } from "sheppy/http";
import { sendEmail } from "../tasks.js";

const queue = new Queue(process.env.SHEPPY_BACKEND_URL ?? "memory://?instantProcessing=false");
await queue.add(sendEmail("alice@example.com", "Welcome!"));

// No authorize: the API then answers only under localhost names and IP addresses, which is
// right for this machine alone. Before serving it beyond, add your app's own check
// (authorize: your session check, or basicAuth({ user, password }) from sheppy/http).
const api = createHttpHandler(queue.backend, { basePath: "/sheppy" });
const app = Fastify();
await app.register(fastifyPlugin(api), { prefix: "/sheppy" });

const check = process.argv.includes("--check");
const address = await app.listen({ port: check ? 0 : 3000, host: "127.0.0.1" });
if (check) {
  console.log(JSON.stringify(await (await fetch(`${address}/sheppy/queues`)).json()));
  await app.close();
  await queue.close();
} else {
  console.log(`dashboard on ${address}/sheppy/`);
}
