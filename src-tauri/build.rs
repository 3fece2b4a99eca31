// The app manifest makes Tauri check every app command against the capabilities. Without it a
// page from a custom scheme (a report) could call app commands unchecked; see
// PLATFORM-NOTES.md. Keep this list equal to `commands::COMMANDS` (a test checks it).
const COMMANDS: &[&str] = &["app_info", "open_archive", "cancel_open", "close_archive"];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
