import type { AnalysisFinding } from "../bindings/AnalysisFinding";
import type { AppEvent } from "../bindings/AppEvent";
import type { AppInfo } from "../bindings/AppInfo";
import type { ArchiveFile } from "../bindings/ArchiveFile";
import type { Browse } from "../bindings/Browse";
import type { CollectRequest } from "../bindings/CollectRequest";
import type { EntryDetail } from "../bindings/EntryDetail";
import type { Matrix } from "../bindings/Matrix";
import type { OpenedReport } from "../bindings/OpenedReport";
import type { NodeLogs } from "../bindings/NodeLogs";
import type { Progress } from "../bindings/Progress";
import type { Reanalysis } from "../bindings/Reanalysis";
import type { RedactedCopy } from "../bindings/RedactedCopy";
import type { Scope } from "../bindings/Scope";
import type { Timeline } from "../bindings/Timeline";
import type { Triage } from "../bindings/Triage";
import type { Sort } from "../bindings/Sort";
import type { ApiRequest } from "../bindings/ApiRequest";
import type { Connection } from "../bindings/Connection";
import type { ConnectionDraft } from "../bindings/ConnectionDraft";
import type { Connections } from "../bindings/Connections";
import type { ContextRemoved } from "../bindings/ContextRemoved";
import type { ContextTest } from "../bindings/ContextTest";
import type { DeploymentView } from "../bindings/DeploymentView";
import type { Downloaded } from "../bindings/Downloaded";
import type { RemoteProgress } from "../bindings/RemoteProgress";
import type { SnapshotsDeleted } from "../bindings/SnapshotsDeleted";
import type { Waited } from "../bindings/Waited";
import type { DataDiff, Scopes } from "../insight";

export type BackendKind = "tauri" | "fake";

/**
 * Everything the UI can ask of the Rust side. Each method resolves with the
 * command's result or rejects with a `BackendError`. Ids of library entries
 * are strings (they are SQLite rowids; strings keep every id exact).
 */
export interface Backend {
  readonly kind: BackendKind;
  /** `invoke("app_info")`: product, version, platform and app directories. */
  appInfo(): Promise<AppInfo>;
  /**
   * `invoke("subscribe")`: the one event channel of the window. Files to open
   * (launch arguments, a second launch, a drop), library changes made by this
   * app or another process, and links a report tried to follow.
   */
  subscribe(onEvent: (event: AppEvent) => void): Promise<void>;
  /**
   * `invoke("open_archive", { path, request })`: import a snapshot ZIP from
   * disk into the library and open it for the sandboxed viewer. `request`
   * names the open so that it can be cancelled.
   */
  openArchive(path: string, request?: string): Promise<OpenedReport>;
  /**
   * `invoke("cancel_job", { job: request })`: stop the open started with this
   * request id; that open then rejects with the `cancelled` code.
   */
  cancelOpen(request: string): Promise<void>;
  /** `invoke("cancel_job", { job })`: stop a collection, an open, a snapshot create-wait or a download by its id. */
  cancelJob(job: string): Promise<void>;
  /** `invoke("close_archive", { token })`: forget an opened archive. */
  closeArchive(token: string): Promise<void>;
  /** The system's file dialog for snapshot ZIPs; resolves with [] when dismissed. */
  pickArchives(): Promise<string[]>;
  /** The system's dialog for one file or directory; null when dismissed. */
  pickPath(kind: "file" | "dir", title: string): Promise<string | null>;
  /** One sorted page of the library for a query, with the count and status totals of the whole match. */
  libraryBrowse(query: string, sort: Sort, offset: number, limit: number): Promise<Browse>;
  /** Show a library entry in the viewer. */
  libraryOpen(id: string, request?: string): Promise<OpenedReport>;
  libraryShow(id: string): Promise<EntryDetail>;
  libraryPin(id: string, pinned: boolean): Promise<void>;
  libraryNote(id: string, note: string): Promise<void>;
  /** Add and remove tags; resolves with the entry's tags after. */
  libraryTag(id: string, add: string[], remove: string[]): Promise<string[]>;
  libraryRemove(id: string): Promise<void>;
  /** Save a copy of the entry's archive where the person chooses; null when dismissed. */
  libraryExport(id: string, name: string): Promise<string | null>;
  /** Two entries compared (`a` before), with the continuity of their Iggy data or why there is none. */
  libraryDiff(a: string, b: string): Promise<DataDiff>;
  libraryMatrix(name: string, deployment: string | null): Promise<Matrix>;
  /** `invoke("library_scopes")`: every deployment and host the triage board can be scoped to. */
  libraryScopes(): Promise<Scopes>;
  /** `invoke("library_triage", { deployment, host })`: every warn, fail and error check of a scope, ranked. */
  libraryTriage(scope: Scope): Promise<Triage>;
  /** `invoke("library_timeline", { checkId, node, deployment, host })`: one check over every snapshot, per node. */
  libraryTimeline(checkId: string, node: string | null, scope: Scope): Promise<Timeline>;
  /** `invoke("library_logs_around", { deployment, host, at, windowSecs, maxLines })`: every node's log lines near `at`. */
  libraryLogsAround(scope: Scope, at: string, windowSecs: number, maxLines: number): Promise<NodeLogs[]>;
  /** `invoke("library_analysis", { id })`: the analyzers' findings of one entry, the latest run's new ones marked. */
  libraryAnalysis(id: string): Promise<AnalysisFinding[]>;
  /** `invoke("library_reanalyze")`: run the analyzers over the whole library; what they now flag. */
  libraryReanalyze(): Promise<Reanalysis>;
  /** `invoke("library_export_redacted", { id, name })`: a redacted copy where the person chooses; null when dismissed. */
  libraryExportRedacted(id: string, name: string): Promise<RedactedCopy | null>;
  /** Open a link a report asked for in the system browser (after the person confirmed). */
  openLink(url: string): Promise<void>;
  /** The files of an opened archive (names escaped), nested Iggy data included. */
  archiveFiles(token: string): Promise<ArchiveFile[]>;
  /** Prepare one file's page for the sandboxed frame; resolves with its URL (the bytes stay in Rust). */
  archiveFilePage(token: string, file: string): Promise<string>;
  /** Save one file where the person chooses; null when dismissed. */
  archiveFileExport(token: string, file: string): Promise<string | null>;
  /** Collect this machine into the library; each step arrives on `onProgress`. */
  collectRun(request: CollectRequest, job: string, onProgress: (p: Progress) => void): Promise<OpenedReport>;

  /** `invoke("connections_list")`: every connection (the CLI's contexts, and the demo) and whether a keyring is reachable. */
  connectionsList(): Promise<Connections>;
  /**
   * `invoke("connection_save", { draft })`: add or edit a connection. The key goes to the
   * keyring (or this session only) and never comes back; `draft.key` null on an edit keeps it.
   */
  connectionSave(draft: ConnectionDraft): Promise<Connection>;
  /** `invoke("connection_test", { name, deployment })`: can the key read, and manage, a deployment (the first when null)? */
  connectionTest(name: string, deployment: string | null): Promise<ContextTest>;
  /** `invoke("connection_remove", { name })`: forget a connection and its key; removing the demo stops its emulator. */
  connectionRemove(name: string): Promise<ContextRemoved>;
  /** `invoke("demo_start")`: start the in-process emulator with its demo connection (idempotent). */
  demoStart(): Promise<Connection>;
  /** `invoke("deployment_snapshots", { connection, deployment })`: the deployment's snapshots grouped by name. */
  deploymentSnapshots(connection: string, deployment: string): Promise<DeploymentView>;
  /**
   * `invoke("snapshot_create", { connection, deployment, redactSecrets, includeIggy, job, onProgress })`:
   * create a snapshot and follow its processing; `created` and `waiting` arrive on `onProgress`.
   * A snapshot already in progress rejects with `conflict` (`details.in_progress` names it).
   */
  snapshotCreate(
    connection: string,
    deployment: string,
    redactSecrets: boolean,
    includeIggy: boolean,
    job: string,
    onProgress: (p: RemoteProgress) => void,
  ): Promise<Waited>;
  /**
   * `invoke("snapshot_download", { connection, deployment, ids, job, onProgress })`: download
   * node archives into the library; a cancelled one resumes from its partial file next time.
   */
  snapshotDownload(
    connection: string,
    deployment: string,
    ids: string[],
    job: string,
    onProgress: (p: RemoteProgress) => void,
  ): Promise<Downloaded>;
  /** `invoke("snapshot_delete", { connection, deployment, ids, alsoLibrary })`: delete server copies (and the library's, when asked). */
  snapshotDelete(connection: string, deployment: string, ids: string[], alsoLibrary: boolean): Promise<SnapshotsDeleted>;
  /** `invoke("request_curl", { connection, deployment, request })`: the request as a curl command, key as `$LD_API_KEY`. */
  requestCurl(connection: string, deployment: string, request: ApiRequest): Promise<string>;
  /** `invoke("copy_text", { text })`: text onto the system clipboard (WebKitGTK refuses the page's clipboard API). */
  copyText(text: string): Promise<void>;
}
