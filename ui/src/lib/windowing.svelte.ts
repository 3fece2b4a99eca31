import { tick } from "svelte";

/**
 * A windowed list: every row has one height, so which rows are in view is computed from
 * the scroll offset and the viewport's height, never measured row by row. Only those rows
 * (plus a few above and below) are in the DOM; a spacer as tall as every row keeps the
 * scrollbar true. The library's catalog and a deployment's snapshots both draw this way.
 */

export interface WindowOptions {
  /** Every row's height, px. */
  rowH: number;
  /** Rows drawn above and below the visible ones. */
  overscan: number;
  /** The viewport's height before layout (and in tests, where nothing has a size). */
  fallbackHeight: number;
}

/**
 * Where a row scrolled into view stands: `nearest` scrolls the least (a row below the
 * window ends at its bottom edge); `start` brings a row below the window up to the top,
 * one row under it (what follows the row, a snapshot's nodes, then shows).
 */
export type Reveal = "nearest" | "start";

/** The rows to draw, `first` included and `last` not. */
export function windowRange(
  scrollTop: number,
  viewH: number,
  total: number,
  { rowH, overscan }: Pick<WindowOptions, "rowH" | "overscan">,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowH) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewH) / rowH) + overscan);
  return { first, last };
}

/** The scroll offset that shows row `index`: `scrollTop` itself when the row is already in view. */
export function revealOffset(index: number, scrollTop: number, viewH: number, rowH: number, reveal: Reveal): number {
  const top = index * rowH;
  if (top < scrollTop) return top;
  if (top + rowH > scrollTop + viewH) return reveal === "start" ? Math.max(0, top - rowH) : top + rowH - viewH;
  return scrollTop;
}

/** Rows a Page Up / Page Down moves: a viewport's worth, less one so the context stays. */
export function pageRows(viewH: number, rowH: number): number {
  return Math.max(1, Math.floor(viewH / rowH) - 1);
}

/**
 * The row a navigation key moves to from row `index` (arrows, Page Up/Down, Home, End),
 * or null for any other key. The result may lie outside the list: clamp it when focusing.
 */
export function keyTarget(key: string, index: number, total: number, page: number): number | null {
  switch (key) {
    case "ArrowDown":
      return index + 1;
    case "ArrowUp":
      return index - 1;
    case "PageDown":
      return index + page;
    case "PageUp":
      return index - page;
    case "Home":
      return 0;
    case "End":
      return total - 1;
    default:
      return null;
  }
}

/**
 * The window of one list, as runes: give it the row count, put `{@attach win.viewport}`
 * on the scrolling element (class `window-viewport` in app.css), and draw the rows from
 * `first` to `last` at `top(index)` in a spacer (class `window-rows`, style `spacer`).
 */
export class VirtualWindow {
  readonly rowH: number;
  readonly overscan: number;
  readonly fallbackHeight: number;
  readonly #total: () => number;

  /** The scrolling element, once attached. */
  element = $state<HTMLElement | undefined>();
  scrollTop = $state(0);
  /** The viewport's measured height; 0 before layout. */
  height = $state(0);

  total: number;
  /** The viewport's height, or the fallback before layout. */
  viewH: number;
  #range: { first: number; last: number };
  /** The first row drawn. */
  first: number;
  /** The row after the last one drawn. */
  last: number;
  /** Rows a Page Up / Page Down moves. */
  page: number;
  /** The style of the element the rows stand in: as tall as every row; rows read `--row-h`. */
  spacer: string;

  constructor(options: WindowOptions & { total: () => number }) {
    this.rowH = options.rowH;
    this.overscan = options.overscan;
    this.fallbackHeight = options.fallbackHeight;
    this.#total = options.total;
    this.total = $derived.by(() => this.#total());
    this.viewH = $derived(this.height > 0 ? this.height : this.fallbackHeight);
    this.#range = $derived(windowRange(this.scrollTop, this.viewH, this.total, this));
    this.first = $derived(this.#range.first);
    this.last = $derived(this.#range.last);
    this.page = $derived(pageRows(this.viewH, this.rowH));
    this.spacer = $derived(`height: ${this.total * this.rowH}px; --row-h: ${this.rowH}px`);
  }

  /**
   * The attachment for the scrolling element: follows its scroll offset and its height
   * (with a ResizeObserver; jsdom has none, so there the window's resize stands in).
   */
  viewport = (el: HTMLElement) => {
    this.element = el;
    const measure = () => (this.height = el.clientHeight);
    const onScroll = () => (this.scrollTop = el.scrollTop);
    measure();
    el.addEventListener("scroll", onScroll);
    let unobserve: () => void;
    if (typeof ResizeObserver === "undefined") {
      window.addEventListener("resize", measure);
      unobserve = () => window.removeEventListener("resize", measure);
    } else {
      const observer = new ResizeObserver(measure);
      observer.observe(el);
      unobserve = () => observer.disconnect();
    }
    return () => {
      unobserve();
      el.removeEventListener("scroll", onScroll);
      if (this.element === el) this.element = undefined;
    };
  };

  /** Scroll so row `index` is in view (nothing moves when it already is). */
  reveal(index: number, reveal: Reveal = "nearest") {
    this.#scrollTo(revealOffset(index, this.scrollTop, this.viewH, this.rowH, reveal));
  }

  /**
   * Scrolls row `index` (clamped) into view and, once it is drawn, focuses the element
   * `selector(i)` finds in the window. Returns that element, or null when there is no row or
   * it is not drawn yet.
   */
  async focusRow(index: number, selector: (i: number) => string, reveal: Reveal = "nearest"): Promise<HTMLElement | null> {
    const i = this.clamp(index);
    if (i < 0) return null;
    this.reveal(i, reveal);
    await tick();
    const target = this.element?.querySelector<HTMLElement>(selector(i)) ?? null;
    target?.focus();
    return target;
  }

  /** Back to the first row. */
  reset() {
    if (this.element) this.element.scrollTop = 0;
    this.scrollTop = 0;
  }

  /** Where row `index` stands in the spacer, px. */
  top(index: number): number {
    return index * this.rowH;
  }

  /** `index` kept within the rows (-1 when there is none). */
  clamp(index: number): number {
    return Math.min(Math.max(index, 0), this.total - 1);
  }

  /** The row a navigation key moves to from `index`, clamped; null for any other key. */
  keyTarget(key: string, index: number): number | null {
    const to = keyTarget(key, index, this.total, this.page);
    return to === null ? null : this.clamp(to);
  }

  #scrollTo(next: number) {
    if (next === this.scrollTop) return;
    this.scrollTop = next;
    if (this.element) {
      this.element.scrollTop = next;
      // The element may clamp it (not laid out yet, or shorter): keep what it really shows.
      if (this.element.clientHeight > 0) this.scrollTop = this.element.scrollTop;
    }
  }
}
