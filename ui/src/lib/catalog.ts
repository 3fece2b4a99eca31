/**
 * The library catalog as the Library section shows it: the query, the sort,
 * sparse pages of the match, totals, the selection for Compare, and the pure
 * helpers for the query language's chips and for dates.
 *
 * HOOK FOR App.svelte: `libraryVersion` is a writable number store. Bump it
 * whenever the library changed elsewhere, and the Library section re-queries
 * (keeping its scroll position and selection):
 *
 *     backend.subscribe((event) => {
 *       if (event.kind === "library_changed") bumpLibraryVersion();
 *     });
 *
 * The section reads it through its `changes` prop, which defaults to this store.
 */
import { get, writable, type Readable, type Writable } from "svelte/store";
import { toAppError, type Backend } from "./backend";
import type { AppError } from "./bindings/AppError";
import type { Entry } from "./bindings/Entry";
import type { MatrixRow } from "./bindings/MatrixRow";
import type { Sort } from "./bindings/Sort";
import type { StatusCounts } from "./bindings/StatusCounts";
import type { ChipTone } from "./components/Chip.svelte";
import type { CheckStatus } from "./library";

/** Bumped on every `library_changed` event (see the top of this file). */
export const libraryVersion: Writable<number> = writable(0);

export function bumpLibraryVersion(store: Writable<number> = libraryVersion): void {
  store.update((v) => v + 1);
}

// ---------------------------------------------------------------------------
// Query language: terms, chips, quick filters.

/** The filter keys the library understands (crates/snapdesk-library/src/query.rs). */
export const FILTER_KEYS = ["status", "category", "node", "deployment", "context", "since", "has", "pinned", "tag"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface Term {
  /** The token as typed, quotes included. */
  raw: string;
  /** The filter key, or null for free text. */
  key: FilterKey | null;
  /** The value without quotes (the whole word for free text). */
  value: string;
}

/** Split like the Rust side: whitespace separates, double quotes group. */
export function tokens(query: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const c of query) {
    if (c === '"') quoted = !quoted;
    if (/\s/.test(c) && !quoted) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

export function parseTerms(query: string): Term[] {
  return tokens(query).map((raw) => {
    const i = raw.indexOf(":");
    const key = i > 0 ? raw.slice(0, i).toLowerCase() : "";
    const value = raw.slice(i + 1).replaceAll('"', "");
    if (i > 0 && value && (FILTER_KEYS as readonly string[]).includes(key)) {
      return { raw, key: key as FilterKey, value };
    }
    return { raw, key: null, value: raw.replaceAll('"', "") };
  });
}

/** The filter terms of a query (what the chips under the box show). */
export function filterTerms(query: string): Term[] {
  return parseTerms(query).filter((t) => t.key !== null);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function hasTerm(query: string, term: string): boolean {
  return tokens(query).some((t) => same(t, term));
}

/** The query without the (first) token equal to `term`, spaces tidied. */
export function removeTerm(query: string, term: string): string {
  const list = tokens(query);
  const i = list.findIndex((t) => same(t, term));
  if (i >= 0) list.splice(i, 1);
  return list.join(" ");
}

/** Append `term`, or take it out when it is already there. */
export function toggleTerm(query: string, term: string): string {
  if (hasTerm(query, term)) return removeTerm(query, term);
  const q = tokens(query).join(" ");
  return q ? `${q} ${term}` : term;
}

/** A term for a value that may hold spaces: `node:"my host"`. */
export function termFor(key: FilterKey, value: string): string {
  return /[\s"]/.test(value) ? `${key}:"${value.replaceAll('"', "")}"` : `${key}:${value}`;
}

export interface QuickFilter {
  label: string;
  term: string;
  title: string;
}

export const QUICK_FILTERS: readonly QuickFilter[] = [
  { label: "Failing", term: "status:fail", title: "Entries with failed checks (status:fail)" },
  { label: "Warnings", term: "status:warn", title: "Entries with warnings (status:warn)" },
  { label: "Pinned", term: "pinned:yes", title: "Pinned entries, never evicted (pinned:yes)" },
  { label: "Has Iggy data", term: "has:iggy", title: "Entries that carry Iggy data (has:iggy)" },
  { label: "Last 7 days", term: "since:7d", title: "Completed or added in the last 7 days (since:7d)" },
];

export const SORT_LABELS: Record<Sort, string> = {
  added: "Recently added",
  created: "Newest snapshot",
  opened: "Recently opened",
  failures: "Most failures",
  size: "Largest",
  node: "Node",
  deployment: "Deployment",
};

export const SORTS = Object.keys(SORT_LABELS) as Sort[];

// ---------------------------------------------------------------------------
// Status and dates.

export type { CheckStatus };

/** A status in the library's counts and tables: info is muted there. */
export const STATUS_TONES: Record<CheckStatus, ChipTone> = {
  fail: "fail",
  error: "fail",
  warn: "warn",
  pass: "pass",
  info: "muted",
  skipped: "muted",
};

/** A check's status in one report, as it is read or collected: info keeps its own tone. */
export const CHECK_TONES: Record<CheckStatus, ChipTone> = { ...STATUS_TONES, info: "info" };

/** A status string from the backend as a chip tone; unknown ones are muted. */
export function statusTone(status: string | null | undefined): ChipTone {
  return (status && STATUS_TONES[status as CheckStatus]) || "muted";
}

export const ZERO_COUNTS: StatusCounts = { pass: 0, warn: 0, fail: 0, info: 0, error: 0, skipped: 0 };

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** "2026-06-01 12:30" in the machine's time zone; null for no date, the text as is when unparsable. */
export function formatLocal(value: string | null | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return value;
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "just now", "5 min ago", "3 h ago", "12 d ago", "in 4 d"; null for no or a bad date. */
export function relativeTime(value: string | null | undefined, now: number = Date.now()): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return null;
  const diff = now - t;
  const abs = Math.abs(diff);
  const units: [number, string][] = [
    [365 * 86_400_000, "y"],
    [30 * 86_400_000, "mo"],
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
  ];
  if (abs < 60_000) return "just now";
  for (const [ms, unit] of units) {
    if (abs >= ms) {
      const n = Math.floor(abs / ms);
      return diff >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
    }
  }
  return "just now";
}

export interface EntryState {
  evicted: boolean;
  /** The server's copy has been deleted by its retention: this is the only copy. */
  expired: boolean;
  downloadable: boolean;
}

export function entryState(e: Pick<Entry, "evicted_at" | "expires_at" | "downloadable">, now = Date.now()): EntryState {
  const expires = e.expires_at ? Date.parse(e.expires_at) : NaN;
  return {
    evicted: !!e.evicted_at,
    expired: !Number.isNaN(expires) && expires <= now,
    downloadable: !!e.evicted_at && e.downloadable,
  };
}

/** The node as a person names it: node id, else host, else a dash. */
export function nodeLabel(e: Pick<Entry, "node_id" | "host_name">): string {
  return e.node_id?.trim() || e.host_name?.trim() || "—";
}

/** A file name for an export: the snapshot name (or title) and node, made safe. */
export function exportName(e: Pick<Entry, "snapshot_name" | "title" | "node_id" | "id">): string {
  const base = [e.snapshot_name || e.title || `entry-${e.id}`, e.node_id].filter(Boolean).join("-");
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 120);
  return `${safe || `entry-${e.id}`}.zip`;
}

/** Matrix rows with the differing ones first (stable otherwise), or only those. */
export function matrixRows(rows: MatrixRow[], onlyDiffering = false): MatrixRow[] {
  const differ = rows.filter((r) => r.differs);
  return onlyDiffering ? differ : [...differ, ...rows.filter((r) => !r.differs)];
}

/** The two selected entries as before and after: the older snapshot first. */
export function beforeAfter(x: Entry, y: Entry): [Entry, Entry] {
  const t = (e: Entry) => Date.parse(e.created_at ?? e.added_at) || 0;
  return t(y) < t(x) ? [y, x] : [x, y];
}

// ---------------------------------------------------------------------------
// The catalog store: sparse pages of the current match.

// A page is about four screens of rows: every keystroke fetches the first page, and 200
// entries were twice the bytes to encode, carry and decode for the same screen.
export const PAGE_SIZE = 100;

export type CatalogPhase = "loading" | "ready" | "error";

export interface CatalogState {
  query: string;
  sort: Sort;
  /** "loading" only before the first answer of a new query (or after an error's Retry). */
  phase: CatalogPhase;
  /** A query is waiting for its debounce or its answer. */
  busy: boolean;
  /** The backend failed (not a mistake in the query). */
  error: AppError | null;
  /** The query itself is wrong (`status:nope`): said under the box, the last list stays. */
  queryError: AppError | null;
  total: number;
  totals: StatusCounts;
  evicted: number;
  /** The query whose answer is on screen (it lags `query` while an answer is on its way). */
  shown: string;
  /** Loaded pages of the match by page number (PAGE_SIZE entries each). */
  pages: Map<number, Entry[]>;
  /** Selected entries for Compare, in the order they were picked. */
  selected: Entry[];
}

export interface CatalogStore extends Readable<CatalogState> {
  readonly pageSize: number;
  /** Change the query; the request follows after the debounce. */
  setQuery(query: string): void;
  setSort(sort: Sort): void;
  /** Re-run the current query at once, keeping the window and selection (library changes, Retry). */
  refresh(): Promise<void>;
  /** Refresh once after a short wait, however many times it is asked meanwhile (a burst of library changes). */
  refreshSoon(delayMs?: number): void;
  /** Make sure rows [from, to) are loaded (the rendered window). */
  ensure(from: number, to: number): void;
  entryAt(index: number): Entry | undefined;
  toggleSelect(entry: Entry): void;
  deselect(id: string): void;
  clearSelection(): void;
  /** Replace a loaded entry's fields after an action (pin, note, tags) before the refresh lands. */
  patch(id: string, patch: Partial<Entry>): void;
  snapshot(): CatalogState;
  destroy(): void;
}

export interface CatalogOptions {
  pageSize?: number;
  /**
   * Wait after a keystroke before asking. 0 by default: the first keystroke asks at once
   * (what is typed in the same tick is one request), and while a query is on its way the
   * keystrokes after it are coalesced into one request for the newest text, sent when it
   * returns. Typing never queues stale queries, and a key pressed when nothing is pending
   * pays no wait.
   */
  debounceMs?: number;
  query?: string;
  sort?: Sort;
}

export function createCatalog(backend: Backend, options: CatalogOptions = {}): CatalogStore {
  const size = options.pageSize ?? PAGE_SIZE;
  const debounceMs = options.debounceMs ?? 0;
  const store = writable<CatalogState>({
    query: options.query ?? "",
    sort: options.sort ?? "added",
    phase: "loading",
    busy: false,
    error: null,
    queryError: null,
    shown: "",
    total: 0,
    totals: ZERO_COUNTS,
    evicted: 0,
    pages: new Map(),
    selected: [],
  });
  /** Every query, sort change or refresh gets a new generation; older answers are dropped. */
  let gen = 0;
  /** The generation the shown pages belong to. */
  let shownGen = -1;
  /** The scheduled start of a run: a timer, or (no debounce) a microtask's token. */
  let timer: ReturnType<typeof setTimeout> | symbol | null = null;
  const stop = () => {
    if (timer && typeof timer !== "symbol") clearTimeout(timer);
    timer = null;
  };
  let soon: ReturnType<typeof setTimeout> | null = null;
  /** Runs on their way to the backend. */
  let running = 0;
  /** The query changed while a run was on its way: run again for the newest when it returns. */
  let pending = false;
  let windowFrom = 0;
  let windowTo = size;
  const inflight = new Set<number>();
  let destroyed = false;

  const pagesFor = (from: number, to: number) => {
    const first = Math.max(0, Math.floor(from / size));
    const last = Math.max(first, Math.floor(Math.max(from, to - 1) / size));
    const out: number[] = [];
    for (let p = first; p <= last; p++) out.push(p);
    return out;
  };

  /** Load the pages of the window for a new generation and show them together. */
  async function run(): Promise<void> {
    stop();
    const g = ++gen;
    inflight.clear();
    const { query, sort } = get(store);
    const pages = pagesFor(windowFrom, windowTo);
    store.update((s) => ({ ...s, busy: true }));
    running++;
    try {
      const sent = performance.now();
      const answers = await Promise.all(pages.map((p) => backend.libraryBrowse(query, sort, p * size, size)));
      // The query's round trip, for the benchmark's breakdown of a keystroke (User Timing;
      // only the last one is kept). A timing that fails must not fail the answer.
      try {
        performance.clearMeasures("snapdesk:library-browse");
        performance.measure("snapdesk:library-browse", { start: sent, detail: { query } });
      } catch {
        // No User Timing here: nothing to record.
      }
      if (g !== gen || destroyed) return;
      const last = answers[answers.length - 1];
      shownGen = g;
      store.update((s) => ({
        ...s,
        phase: "ready",
        busy: pending,
        error: null,
        queryError: null,
        shown: query,
        total: last.total,
        totals: last.totals,
        evicted: last.evicted,
        pages: new Map(pages.map((p, i) => [p, answers[i].items])),
        selected: s.selected,
      }));
      // The window may have moved while the answers were on their way.
      ensure(windowFrom, windowTo);
    } catch (e) {
      if (g !== gen || destroyed) return;
      const error = toAppError(e);
      store.update((s) =>
        error.code === "invalid_input" && s.phase === "ready"
          ? { ...s, busy: pending, queryError: error, shown: query }
          : error.code === "invalid_input"
            ? { ...s, busy: pending, phase: "ready", queryError: error, shown: query, total: 0, totals: ZERO_COUNTS, evicted: 0, pages: new Map() }
            : { ...s, busy: pending, phase: "error", error, queryError: null, shown: query },
      );
    } finally {
      running--;
      if (pending && running === 0 && !destroyed) {
        pending = false;
        void run();
      }
    }
  }

  function schedule() {
    stop();
    store.update((s) => ({ ...s, busy: true }));
    // A new query starts at the top.
    windowTo = windowTo - windowFrom;
    windowFrom = 0;
    const start = () => {
      timer = null;
      // One run at a time: the one on its way starts the newest query when it returns.
      if (running > 0) pending = true;
      else void run();
    };
    if (debounceMs > 0) {
      timer = setTimeout(start, debounceMs);
      return;
    }
    // No debounce: the query leaves in a microtask, before the page draws the keystroke (a
    // timer would wait for that frame); changes in the same task still make one query.
    const token = Symbol("run");
    timer = token;
    queueMicrotask(() => {
      if (timer === token) start();
    });
  }

  function ensure(from: number, to: number) {
    windowFrom = Math.max(0, from);
    windowTo = Math.max(windowFrom, to);
    // A new generation is on its way and will load the window itself.
    if (shownGen !== gen || timer || pending) return;
    const s = get(store);
    const g = gen;
    for (const p of pagesFor(windowFrom, Math.min(windowTo, s.total))) {
      if (s.pages.has(p) || inflight.has(p)) continue;
      inflight.add(p);
      backend.libraryBrowse(s.query, s.sort, p * size, size).then(
        (b) => {
          if (g !== gen || destroyed) return;
          inflight.delete(p);
          store.update((st) => {
            const pages = new Map(st.pages);
            pages.set(p, b.items);
            return { ...st, pages, total: b.total, totals: b.totals, evicted: b.evicted };
          });
        },
        (e) => {
          if (g !== gen || destroyed) return;
          inflight.delete(p);
          store.update((st) => ({ ...st, phase: "error", error: toAppError(e) }));
        },
      );
    }
  }

  return {
    subscribe: store.subscribe,
    pageSize: size,
    setQuery(query) {
      if (query === get(store).query) return;
      store.update((s) => ({ ...s, query }));
      schedule();
    },
    setSort(sort) {
      if (sort === get(store).sort) return;
      store.update((s) => ({ ...s, sort }));
      schedule();
    },
    refresh() {
      store.update((s) => (s.phase === "error" ? { ...s, phase: "loading", error: null } : s));
      return run();
    },
    refreshSoon(delayMs = 80) {
      if (soon || destroyed) return;
      soon = setTimeout(() => {
        soon = null;
        void run();
      }, delayMs);
    },
    ensure,
    entryAt(index) {
      return get(store).pages.get(Math.floor(index / size))?.[index % size];
    },
    toggleSelect(entry) {
      store.update((s) => ({
        ...s,
        selected: s.selected.some((e) => e.id === entry.id)
          ? s.selected.filter((e) => e.id !== entry.id)
          : [...s.selected, entry],
      }));
    },
    deselect(id) {
      store.update((s) => ({ ...s, selected: s.selected.filter((e) => e.id !== id) }));
    },
    clearSelection() {
      store.update((s) => ({ ...s, selected: [] }));
    },
    patch(id, patch) {
      store.update((s) => {
        const pages = new Map(s.pages);
        for (const [p, items] of pages) {
          if (items.some((e) => e.id === id)) pages.set(p, items.map((e) => (e.id === id ? { ...e, ...patch } : e)));
        }
        return { ...s, pages, selected: s.selected.map((e) => (e.id === id ? { ...e, ...patch } : e)) };
      });
    },
    snapshot: () => get(store),
    destroy() {
      destroyed = true;
      stop();
      if (soon) clearTimeout(soon);
    },
  };
}

const catalogs = new WeakMap<Backend, CatalogStore>();

/**
 * The catalog of a backend, kept for the life of the app so the query, sort
 * and selection survive a switch to another section and back.
 */
export function catalogFor(backend: Backend): CatalogStore {
  let c = catalogs.get(backend);
  if (!c) {
    c = createCatalog(backend);
    catalogs.set(backend, c);
  }
  return c;
}
