import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import type { AppInfo } from "../bindings/AppInfo";
import type { OpenedReport } from "../bindings/OpenedReport";
import { toBackendError } from "./errors";
import type { Backend } from "./types";

/** Invoke a Tauri command; any rejection becomes a `BackendError`. */
export async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toBackendError(e);
  }
}

export function createTauriBackend(): Backend {
  return {
    kind: "tauri",
    appInfo: () => call<AppInfo>("app_info"),
    openArchive: (path, request) => call<OpenedReport>("open_archive", { path, request: request ?? null }),
    cancelOpen: (request) => call<void>("cancel_open", { request }),
    closeArchive: (token) => call<void>("close_archive", { token }),
  };
}
