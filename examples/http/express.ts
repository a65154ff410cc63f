/**
 * The HTTP API and the dashboard inside an Express app, under /sheppy.
 *   npx tsx examples/http/express.ts           serves http://127.0.0.1:3000/sheppy/
 *   npx tsx examples/http/express.ts --check   asks it for the queue list once, prints it, exits
 * The queue is in memory here; give a Redis URL (SHEPPY_BACKEND_URL) to watch real workers.
 */
import type { AddressInfo } from "node:net";
import express from "express";
import { Queue } from "sheppy";
import { createHttpHandler, toNodeHandler } from "sheppy/http";
import { sendEmail } from "../tasks.js";

const queue = new Queue(process.env.SHEPPY_BACKEND_URL ?? "memory://?instantProcessing=false");
await queue.add(sendEmail("alice@example.com", "Welcome!"));

// No authorize: the API then answers only under localhost names and IP addresses, which is
// right for this machine alone. Before serving it beyond, add your app's own check
// (authorize: your session check, or basicAuth({ user, password }) from sheppy/http).
const api = createHttpHandler(queue.backend, { basePath: "/sheppy" });
const app = express();
app.use("/sheppy", toNodeHandler(api));

const check = process.argv.includes("--check");
const server = app.listen(check ? 0 : 3000, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sheppy`;
if (check) {
  console.log(JSON.stringify(await (await fetch(`${base}/queues`)).json()));
  server.close();
  await queue.close();
} else {
  console.log(`dashboard on ${base}/`);
}
