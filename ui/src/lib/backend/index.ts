/**
 * The one door to the Rust side. Nothing else in the UI imports @tauri-apps.
 */
import type { Backend } from "./types";
import { createTauriBackend } from "./tauri";
import { createFakeBackend, type FakeBackendOptions } from "./fake";
import { bigDeploymentConnections, demoEntries, previewConnections } from "./demo";

export type { Backend, BackendKind } from "./types";
export { BackendError, toAppError, toBackendError, isAppError } from "./errors";
export { createFakeBackend, fakeSummary, FAKE_APP_INFO, type FakeBackend, type FakeBackendOptions } from "./fake";
export { createTauriBackend } from "./tauri";

/** True when running inside a Tauri webview. */
export function isTauri(win: unknown = globalThis): boolean {
  return typeof win === "object" && win !== null && "__TAURI_INTERNALS__" in win;
}

/**
 * Browser-only knobs for previewing states without Tauri:
 * `?fake=slow` (answers after 1.5 s), `?fake=error` (appInfo fails),
 * `?fake=library` (a library of 10,000 entries), `?fake=broken-library`
 * (every library call fails), `?fake=connections` (three connections: one
 * that manages, a read-only one, an unreachable one), `?fake=deployments` (a
 * deployment of 1,000 nodes × 20 snapshots), `?fake=demo-first-run` (no
 * connection: the first run, with "Try the demo"). Without `?fake` the
 * preview also starts with no connection.
 */
export function fakeOptionsFromQuery(search: string): FakeBackendOptions {
  const mode = new URLSearchParams(search).get("fake");
  if (mode === "slow") return { delayMs: 1500 };
  if (mode === "library") return { entries: demoEntries(10_000) };
  if (mode === "connections") return { remote: { connections: previewConnections() } };
  if (mode === "deployments") return { remote: { connections: bigDeploymentConnections() } };
  if (mode === "demo-first-run") return { remote: { connections: [] } };
  if (mode === "broken-library") {
    const error = {
      code: "io" as const,
      message: "cannot open /home/dev/.local/share/snapdesk/library/library.sqlite: database disk image is malformed",
      hint: "Move the file aside and restart Snapdesk; `snapdesk library verify` tells what can be recovered.",
      details: null,
    };
    return { failures: { libraryBrowse: error, libraryShow: error, libraryOpen: error } };
  }
  if (mode === "error") {
    return {
      delayMs: 300,
      failures: {
        appInfo: {
          code: "config",
          message: "Could not read /home/dev/.config/snapdesk/config.toml: expected `=` at line 3",
          hint: "Fix or remove the file, then reload. Snapdesk recreates defaults when it is missing.",
          details: null,
        },
      },
    };
  }
  return {};
}

export function selectBackend(win: unknown = globalThis, search = ""): Backend {
  return isTauri(win) ? createTauriBackend() : createFakeBackend(fakeOptionsFromQuery(search));
}

export const backend: Backend = selectBackend(
  globalThis,
  typeof location === "undefined" ? "" : location.search,
);
