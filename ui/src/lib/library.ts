/**
 * Archives opened in this run of the app, newest first, and which one the
 * viewer shows. In-memory only. A plain Svelte store so it can be used from TS
 * and tested without a component.
 */
import { get, writable, type Readable } from "svelte/store";
import type { ArchiveKind } from "./bindings/ArchiveKind";
import type { ArchiveSummary } from "./bindings/ArchiveSummary";
import type { OpenedReport } from "./bindings/OpenedReport";
import type { StatusCounts } from "./bindings/StatusCounts";

export interface LibraryEntry extends OpenedReport {
  openedAt: number;
  /**
   * A check the viewer should jump to (`#check-<id>` inside the report), set
   * when the entry was opened from a Compare cell; null otherwise. The viewer
   * reads it when it shows the entry.
   */
  focusCheck: string | null;
}

export interface LibraryState {
  entries: LibraryEntry[];
  /** Token of the entry shown in the viewer, or null for the list. */
  viewing: string | null;
}

export interface LibraryStore extends Readable<LibraryState> {
  /**
   * Put a freshly opened archive at the top. An entry for the same path is
   * replaced and returned, so its token can be closed; otherwise null.
   * `focusCheck` names a check for the viewer to jump to.
   */
  add(opened: OpenedReport, focusCheck?: string | null): LibraryEntry | null;
  /** Drop an entry; leaves the viewer if it was showing it. False when unknown. */
  remove(token: string): boolean;
  find(token: string): LibraryEntry | undefined;
  /**
   * Show an entry in the viewer (false when unknown), or the list with null.
   * `focusCheck`, when given, replaces the entry's check to jump to.
   */
  view(token: string | null, focusCheck?: string | null): boolean;
  snapshot(): LibraryState;
}

export function createLibraryStore(now: () => number = Date.now): LibraryStore {
  const store = writable<LibraryState>({ entries: [], viewing: null });
  const find = (token: string) => get(store).entries.find((e) => e.token === token);

  return {
    subscribe: store.subscribe,

    add(opened, focusCheck = null) {
      const entry: LibraryEntry = { ...opened, openedAt: now(), focusCheck };
      let replaced: LibraryEntry | null = null;
      store.update(({ entries, viewing }) => {
        replaced = entries.find((e) => e.summary.path === opened.summary.path) ?? null;
        const rest = entries.filter((e) => e !== replaced);
        return { entries: [entry, ...rest], viewing: viewing === replaced?.token ? null : viewing };
      });
      return replaced;
    },

    remove(token) {
      if (!find(token)) return false;
      store.update(({ entries, viewing }) => ({
        entries: entries.filter((e) => e.token !== token),
        viewing: viewing === token ? null : viewing,
      }));
      return true;
    },

    find,

    view(token, focusCheck) {
      if (token !== null && !find(token)) return false;
      store.update((s) => ({
        entries:
          token !== null && focusCheck !== undefined
            ? s.entries.map((e) => (e.token === token ? { ...e, focusCheck } : e))
            : s.entries,
        viewing: token,
      }));
      return true;
    },

    snapshot: () => get(store),
  };
}

/** The app-wide library. */
export const library = createLibraryStore();

export const KIND_LABELS: Record<ArchiveKind, string> = {
  snapdesk: "Snapdesk",
  html: "HTML report",
  iggy_snapshot: "Iggy snapshot",
};

export function kindLabel(kind: ArchiveKind): string {
  return KIND_LABELS[kind] ?? kind;
}

export type CheckStatus = keyof StatusCounts;

/** Most serious first: the order status chips are shown in. */
export const STATUS_ORDER: readonly CheckStatus[] = ["fail", "error", "warn", "pass", "info", "skipped"];

export interface StatusChip {
  status: CheckStatus;
  count: number;
}

/** Non-zero counts, most serious first; none when the archive has no counts. */
export function statusChips(counts: StatusCounts | null | undefined): StatusChip[] {
  if (!counts) return [];
  return STATUS_ORDER.map((status) => ({ status, count: counts[status] })).filter(
    (c) => Number.isFinite(c.count) && c.count > 0,
  );
}

/** "2.4 MB" (SI units, one decimal below 10). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** "2026-06-01 10:30 UTC"; an unparsable value is shown as it is, null as null. */
export function formatCreated(value: string | null | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  if (Number.isNaN(t)) return value;
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The host the snapshot came from, or the file name when it is not known. */
export function hostOrFile(s: Pick<ArchiveSummary, "host_name" | "file_name">): string {
  return s.host_name?.trim() || s.file_name;
}
