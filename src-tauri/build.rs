// The app manifest makes Tauri check every app command against the capabilities. Without it a
// page from a custom scheme (a report) could call app commands unchecked; see
// PLATFORM-NOTES.md. The command list lives once, in `src/command_list.rs`; the capability
// of the main window is written from it here.

include!("src/command_list.rs");

macro_rules! names {
    ($($c:ident),*) => { &[$(stringify!($c)),*] };
}

const COMMANDS: &[&str] = app_commands!(names);

fn capability() -> String {
    let perms: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("    \"allow-{}\"", c.replace('_', "-")))
        .collect();
    format!(
        r#"{{
  "$schema": "../gen/schemas/desktop-schema.json",
  "identifier": "main-window",
  "description": "Written by build.rs from src/command_list.rs: what the main window may call, the app's own commands and nothing of Tauri's core (the UI uses none). No other window or frame (reports included) matches any capability.",
  "windows": [
    "main"
  ],
  "local": true,
  "permissions": [
{}
  ]
}}
"#,
        perms.join(",\n")
    )
}

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    let path = std::path::Path::new("capabilities/main.json");
    let text = capability();
    if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
        std::fs::write(path, text).expect("write capabilities/main.json");
    }
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
