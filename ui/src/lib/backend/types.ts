import type { AppInfo } from "../bindings/AppInfo";

export type BackendKind = "tauri" | "fake";

/**
 * Everything the UI can ask of the Rust side. Each method resolves with the
 * command's result or rejects with a `BackendError`.
 */
export interface Backend {
  readonly kind: BackendKind;
  /** `invoke("app_info")`: product, version, platform and app directories. */
  appInfo(): Promise<AppInfo>;
}
