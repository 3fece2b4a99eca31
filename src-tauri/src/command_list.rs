// The app's commands, listed once. `build.rs` includes this file to declare them in the app
// manifest (so Tauri checks every call against the capabilities) and to write
// `capabilities/main.json`; `commands::handler` expands it into the invoke handler.
// Adding a command here is the whole registration.
macro_rules! app_commands {
    ($then:ident) => {
        $then!(
            app_info,
            subscribe,
            open_archive,
            close_archive,
            pick_archives,
            pick_path,
            library_browse,
            library_open,
            library_show,
            library_pin,
            library_note,
            library_tag,
            library_remove,
            library_export,
            library_diff,
            library_matrix,
            open_link,
            collect_run,
            cancel_job,
            archive_files,
            archive_file_page,
            archive_file_export,
            library_scopes,
            library_triage,
            library_timeline,
            library_logs_around,
            library_analysis,
            library_reanalyze,
            library_export_redacted,
            connections_list,
            connection_save,
            connection_test,
            connection_remove,
            demo_start,
            deployment_snapshots,
            snapshot_create,
            snapshot_download,
            snapshot_delete,
            request_curl,
            copy_text
        )
    };
}
