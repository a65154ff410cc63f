/**
 * Paging through a server's cursors: the cursors of the pages read so far
 * are kept, so going back needs no cursor the server never gave. They are
 * kept in the browser's history entry too, so Back from a task (or a reload)
 * returns to the page it was opened from; a shared link starts at the first.
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

interface Kept {
  /** What the list shows (its queue and filter): the cursors of another list mean nothing here. */
  readonly list: string;
  readonly cursors: (string | null)[];
}

function keptIn(state: unknown, slot: string, list: string): (string | null)[] | null {
  const kept = (state as { cursors?: Record<string, Kept> } | null)?.cursors?.[slot];
  return kept?.list === list && Array.isArray(kept.cursors) && kept.cursors.length > 0
    ? kept.cursors
    : null;
}

/**
 * The cursors of the list named `list` (a key for what it shows, such as its
 * queue and filter); a different `list` starts again from the first page.
 * `slot` names the kind of list, so a page with two keeps both.
 */
export function useCursors(slot: string, list: string): Cursors {
  const [kept, setKept] = useState<Kept>(() => ({
    list,
    cursors: keptIn(history.state, slot, list) ?? [null],
  }));
  const cursors = kept.list === list ? kept.cursors : [null];
  const update = (next: (string | null)[]) => {
    setKept({ list, cursors: next });
    const state = (history.state as { cursors?: Record<string, Kept> } | null) ?? {};
    history.replaceState(
      { ...state, cursors: { ...state.cursors, [slot]: { list, cursors: next } } },
      "",
    );
  };
  return {
    current: cursors[cursors.length - 1] ?? null,
    page: cursors.length,
    back: () => update(cursors.length > 1 ? cursors.slice(0, -1) : cursors),
    forward: (next) => update([...cursors, next]),
    restart: () => update([null]),
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
