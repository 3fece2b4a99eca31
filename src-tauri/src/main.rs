// Prevents an extra console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Before any thread exists: WebKit reads it when GTK starts.
    snapdesk_app_lib::choose_webkit_rendering();
    snapdesk_app_lib::run();
}
