// Task module for the README's terminal walkthrough: `sheppy work --tasks ./examples/tasks.ts`
// loads it (TypeScript, directly), and `sheppy task add ./examples/tasks.ts:sendEmail` creates its tasks.
import { task } from "sheppy";

export const sendEmail = task(
  { name: "send-email", retry: 3, retryDelay: [1, 10, 60], timeout: 30 },
  async (to: string, subject: string) => `sent '${subject}' to ${to}`,
);

export const resizeImage = task({ name: "resize-image" }, (path: string, width: number) => {
  if (width <= 0) throw new RangeError(`width must be positive, got ${width}`);
  return `${path}@${width}w.jpg`;
});
