import { Channel, invoke, type InvokeArgs } from "@tauri-apps/api/core";
import type { AnalysisFinding } from "../bindings/AnalysisFinding";
import type { AppEvent } from "../bindings/AppEvent";
import type { AppInfo } from "../bindings/AppInfo";
import type { ArchiveFile } from "../bindings/ArchiveFile";
import type { Browse } from "../bindings/Browse";
import type { EntryDetail } from "../bindings/EntryDetail";
import type { Matrix } from "../bindings/Matrix";
import type { OpenedReport } from "../bindings/OpenedReport";
import type { NodeLogs } from "../bindings/NodeLogs";
import type { Progress } from "../bindings/Progress";
import type { Reanalysis } from "../bindings/Reanalysis";
import type { RedactedCopy } from "../bindings/RedactedCopy";
import type { Timeline } from "../bindings/Timeline";
import type { Triage } from "../bindings/Triage";
import type { Connection } from "../bindings/Connection";
import type { Connections } from "../bindings/Connections";
import type { ContextRemoved } from "../bindings/ContextRemoved";
import type { ContextTest } from "../bindings/ContextTest";
import type { DeploymentView } from "../bindings/DeploymentView";
import type { Downloaded } from "../bindings/Downloaded";
import type { RemoteProgress } from "../bindings/RemoteProgress";
import type { SnapshotsDeleted } from "../bindings/SnapshotsDeleted";
import type { Waited } from "../bindings/Waited";
import type { DataDiff, Scopes } from "../insight";
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

/** One job's progress arrives on its own channel (events are for broadcasts). */
function progressChannel(onProgress: (p: RemoteProgress) => void): Channel<RemoteProgress> {
  const channel = new Channel<RemoteProgress>();
  channel.onmessage = onProgress;
  return channel;
}

export function createTauriBackend(): Backend {
  return {
    kind: "tauri",
    appInfo: () => call<AppInfo>("app_info"),
    subscribe: (onEvent) => {
      const channel = new Channel<AppEvent>();
      channel.onmessage = onEvent;
      return call<void>("subscribe", { onEvent: channel });
    },
    openArchive: (path, request) => call<OpenedReport>("open_archive", { path, request: request ?? null }),
    cancelOpen: (request) => call<void>("cancel_job", { job: request }),
    cancelJob: (job) => call<void>("cancel_job", { job }),
    closeArchive: (token) => call<void>("close_archive", { token }),
    pickArchives: () => call<string[]>("pick_archives"),
    pickPath: (kind, title) => call<string | null>("pick_path", { kind, title }),
    libraryBrowse: (query, sort, offset, limit) => call<Browse>("library_browse", { query, sort, offset, limit }),
    libraryOpen: (id, request) => call<OpenedReport>("library_open", { id, request: request ?? null }),
    libraryShow: (id) => call<EntryDetail>("library_show", { id }),
    libraryPin: (id, pinned) => call<void>("library_pin", { id, pinned }),
    libraryNote: (id, note) => call<void>("library_note", { id, note }),
    libraryTag: (id, add, remove) => call<string[]>("library_tag", { id, add, remove }),
    libraryRemove: (id) => call<void>("library_remove", { id }),
    libraryExport: (id, name) => call<string | null>("library_export", { id, name }),
    libraryDiff: (a, b) => call<DataDiff>("library_diff", { a, b }),
    libraryMatrix: (name, deployment) => call<Matrix>("library_matrix", { name, deployment }),
    libraryScopes: () => call<Scopes>("library_scopes"),
    libraryTriage: (scope) => call<Triage>("library_triage", { deployment: scope.deployment, host: scope.host }),
    libraryTimeline: (checkId, node, scope) =>
      call<Timeline>("library_timeline", { checkId, node, deployment: scope.deployment, host: scope.host }),
    libraryLogsAround: (scope, at, windowSecs, maxLines) =>
      call<NodeLogs[]>("library_logs_around", { deployment: scope.deployment, host: scope.host, at, windowSecs, maxLines }),
    libraryAnalysis: (id) => call<AnalysisFinding[]>("library_analysis", { id }),
    libraryReanalyze: () => call<Reanalysis>("library_reanalyze"),
    libraryExportRedacted: (id, name) => call<RedactedCopy | null>("library_export_redacted", { id, name }),
    openLink: (url) => call<void>("open_link", { url }),
    archiveFiles: (token) => call<ArchiveFile[]>("archive_files", { token }),
    archiveFilePage: (token, file) => call<string>("archive_file_page", { token, file }),
    archiveFileExport: (token, file) => call<string | null>("archive_file_export", { token, file }),
    collectRun: (request, job, onProgress) => {
      const channel = new Channel<Progress>();
      channel.onmessage = onProgress;
      return call<OpenedReport>("collect_run", { request, job, onProgress: channel });
    },
    connectionsList: () => call<Connections>("connections_list"),
    connectionSave: (draft) => call<Connection>("connection_save", { draft }),
    connectionTest: (name, deployment) => call<ContextTest>("connection_test", { name, deployment }),
    connectionRemove: (name) => call<ContextRemoved>("connection_remove", { name }),
    demoStart: () => call<Connection>("demo_start"),
    deploymentSnapshots: (connection, deployment) =>
      call<DeploymentView>("deployment_snapshots", { connection, deployment }),
    snapshotCreate: (connection, deployment, redactSecrets, includeIggy, job, onProgress) =>
      call<Waited>("snapshot_create", {
        connection,
        deployment,
        redactSecrets,
        includeIggy,
        job,
        onProgress: progressChannel(onProgress),
      }),
    snapshotDownload: (connection, deployment, ids, job, onProgress) =>
      call<Downloaded>("snapshot_download", { connection, deployment, ids, job, onProgress: progressChannel(onProgress) }),
    snapshotDelete: (connection, deployment, ids, alsoLibrary) =>
      call<SnapshotsDeleted>("snapshot_delete", { connection, deployment, ids, alsoLibrary }),
    requestCurl: (connection, deployment, request) => call<string>("request_curl", { connection, deployment, request }),
    copyText: (text) => call<void>("copy_text", { text }),
  };
}
