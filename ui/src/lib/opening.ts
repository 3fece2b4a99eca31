/**
 * Opening files from outside the app: given on the command line, handed over
 * by a second launch, dropped on the window, or picked with Ctrl+O. Each file
 * is imported into the library and opened; the last one that opened is shown. And
 * opening what the library holds, from the Library and Deployments sections.
 */
import { writable } from "svelte/store";
import { toAppError, type Backend } from "./backend";
import type { AppError } from "./bindings/AppError";
import type { LibraryStore } from "./library";

export interface OpenFailure {
  path: string;
  error: AppError;
}

/** Files that could not be opened, for the notice the app shows (cleared by the person). */
export const openFailures = writable<OpenFailure[]>([]);

/** The last web link a report asked to open (the app asks the person about it). */
export const linkRequests = writable<string | null>(null);

/** At most one link question per this interval: a report cannot flood the person with them. */
export const LINK_EVERY_MS = 2000;

/** Opens each path in turn; resolves with how many opened. */
export async function openPaths(
  backend: Backend,
  library: LibraryStore,
  paths: readonly string[],
): Promise<number> {
  let opened = 0;
  let last: string | null = null;
  const failures: OpenFailure[] = [];
  for (const path of paths) {
    try {
      const o = await backend.openArchive(path);
      const replaced = library.add(o);
      if (replaced) backend.closeArchive(replaced.token).catch(() => {});
      last = o.token;
      opened++;
    } catch (e) {
      failures.push({ path, error: toAppError(e) });
    }
  }
  openFailures.set(failures);
  if (last) library.view(last);
  return opened;
}

/** Shows library entry `id` when it is open already (true); false when it has to be read. */
export function viewIfOpen(library: LibraryStore, id: string, focusCheck: string | null = null): boolean {
  const existing = library.snapshot().entries.find((e) => e.entry_id === id);
  if (existing) library.view(existing.token, focusCheck);
  return !!existing;
}

/**
 * Reads library entry `id` into the viewer and shows it (at `focusCheck`), closing the
 * report it replaces. Rejects with what went wrong.
 */
export async function openFromLibrary(
  backend: Backend,
  library: LibraryStore,
  id: string,
  focusCheck: string | null = null,
): Promise<void> {
  const opened = await backend.libraryOpen(id);
  const replaced = library.add(opened, focusCheck);
  if (replaced) backend.closeArchive(replaced.token).catch(() => {});
  library.view(opened.token, focusCheck);
}

/** Ctrl+O (⌘O on macOS): the open shortcut, without Shift or Alt. */
export function isOpenShortcut(event: KeyboardEvent, mac: boolean): boolean {
  const mod = mac ? event.metaKey : event.ctrlKey;
  return mod && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "o";
}

/** True for loopback, `*.localhost`, link-local and private (RFC 1918, ULA) addresses. */
export function isLocalHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost") || h.endsWith(".local")) return true;
  if (h === "::1" || h === "::" || h.startsWith("fe80:") || /^f[cd][0-9a-f]{2}:/.test(h)) return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (!v4) return false;
  const [a, b] = [Number(v4[1]), Number(v4[2])];
  return a === 127 || a === 10 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
