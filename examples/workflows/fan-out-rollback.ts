// Fan-out and fan-in with a rollback: reserve stock in every warehouse at once; if any
// reservation failed, release the ones that succeeded, in parallel, and report it.
// `npx tsx examples/workflows/fan-out-rollback.ts`
import { all, Queue, step, task, workflow } from "sheppy";

const reserve = task({ name: "example.reserve" }, (warehouse: string, sku: string) => {
  if (warehouse === "berlin") throw new Error(`${sku} is out of stock in ${warehouse}`);
  return `${warehouse}:${sku}`;
});
// A rollback step must happen even if its worker dies: releasing twice is harmless, so it
// runs again after a crash (and after a failure) instead of leaving stock held.
const release = task(
  { name: "example.release", retry: 5, retryOnCrash: true },
  (reservation: string) => `released ${reservation}`,
);
const confirm = task({ name: "example.confirm" }, (reservations: string[]) => reservations.length);

export const placeOrder = workflow(
  { name: "example.place-order" },
  function* (sku: string, warehouses: string[]) {
    const reservations = yield* all(warehouses.map((warehouse) => reserve(warehouse, sku)));
    // Anything but completed — failed, crashed (its worker died) or cancelled — is not held.
    const held = reservations.flatMap((t) => (t.status === "completed" ? [t.result] : []));
    if (held.length < reservations.length) {
      yield* all(held.map((reservation) => release(reservation)));
      const missed = reservations.filter((t) => t.status !== "completed");
      const why = missed.map((t) => t.error?.message ?? t.status);
      return { placed: false, why, released: held.length };
    }
    const count = yield* step(confirm(held));
    return { placed: true, reservations: count.result };
  },
);

const queue = new Queue("memory://");
const order = await queue.addWorkflow(placeOrder("sku-42", ["paris", "berlin", "lisbon"]));
console.log(JSON.stringify(order.result));
// {"placed":false,"why":["sku-42 is out of stock in berlin"],"released":2}
await queue.close();
