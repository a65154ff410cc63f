// Entry point of a sandbox thread. Plain JavaScript, so it starts under plain
// Node: it registers tsx first when the thread must load TypeScript (Sheppy run
// from source, or a task module written in TypeScript), then loads the thread body.
import { workerData } from "node:worker_threads";

if (workerData.tsx) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(workerData.threadUrl);
