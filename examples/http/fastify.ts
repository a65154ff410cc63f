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

const api = createHttpHandler(queue.backend, {
  basePath: "/sheppy",
  // Your app's own check goes here; without one, anyone who reaches the port can change tasks.
  authorize: () => true,
});
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
