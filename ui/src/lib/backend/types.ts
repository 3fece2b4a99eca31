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
   * `invoke("open_archive", { path })`: open a snapshot ZIP from disk for the
   * sandboxed viewer. Resolves with a token, the frame URL and a summary.
   */
  openArchive(path: string): Promise<OpenedReport>;
  /** `invoke("close_archive", { token })`: forget an opened archive. */
  closeArchive(token: string): Promise<void>;
}
