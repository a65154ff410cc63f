/**
 * Paging through a server's cursors: the cursors of the pages read so far
 * are kept, so going back needs no cursor the server never gave.
 */
import { useState } from "preact/hooks";

export interface Cursors {
  /** The cursor of the page shown (`null` for the first). */
  readonly current: string | null;
  readonly page: number;
  back(): void;
  forward(next: string): void;
  restart(): void;
}

export function useCursors(): Cursors {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    current: cursors[cursors.length - 1] ?? null,
    page: cursors.length,
    back: () => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)),
    forward: (next) => setCursors((list) => [...list, next]),
    restart: () => setCursors([null]),
  };
}

/** Back / forward buttons and the page number; `next` is the cursor after the page shown. */
export function Pager({
  cursors,
  next,
  labels,
}: {
  cursors: Cursors;
  next: string | null | undefined;
  labels: readonly [back: string, forward: string];
}) {
  return (
    <div class="pager">
      <button type="button" disabled={cursors.page <= 1} onClick={cursors.back}>
        {labels[0]}
      </button>
      <span class="muted">page {cursors.page}</span>
      <button type="button" disabled={!next} onClick={() => next && cursors.forward(next)}>
        {labels[1]}
      </button>
    </div>
  );
}
