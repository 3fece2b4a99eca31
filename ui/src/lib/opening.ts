/**
 * Opening files from outside the app: given on the command line, handed over
 * by a second launch, dropped on the window, or picked with Ctrl+O. Each file
 * is imported into the library and opened; the last one that opened is shown.
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

/** Bumped on every library change (this app's or another process's, such as the CLI). */
export const libraryChanges = writable(0);

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

/** Ctrl+O (⌘O on macOS): the open shortcut, without Shift or Alt. */
export function isOpenShortcut(event: KeyboardEvent, mac: boolean): boolean {
  const mod = mac ? event.metaKey : event.ctrlKey;
  return mod && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "o";
}
