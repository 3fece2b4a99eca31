import type { AppInfo } from "../bindings/AppInfo";
import type { OpenedReport } from "../bindings/OpenedReport";

export type BackendKind = "tauri" | "fake";

/**
 * Everything the UI can ask of the Rust side. Each method resolves with the
 * command's result or rejects with a `BackendError`.
 */
export interface Backend {
  readonly kind: BackendKind;
  /** `invoke("app_info")`: product, version, platform and app directories. */
  appInfo(): Promise<AppInfo>;
  /**
   * `invoke("open_archive", { path, request })`: open a snapshot ZIP from disk
   * for the sandboxed viewer. Resolves with a token, the frame URL and a
   * summary. `request` names the open so that it can be cancelled.
   */
  openArchive(path: string, request?: string): Promise<OpenedReport>;
  /**
   * `invoke("cancel_open", { request })`: stop the open started with this
   * request id; that open then rejects with the `cancelled` code.
   */
  cancelOpen(request: string): Promise<void>;
  /** `invoke("close_archive", { token })`: forget an opened archive. */
  closeArchive(token: string): Promise<void>;
}
