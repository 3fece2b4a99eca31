/**
 * Connections and remote snapshots (issue 11): the pure helpers the Deployments section and
 * Settings → Connections share, the flattening of snapshot groups into the rows of the
 * windowed list, and the two long flows (create-and-wait, download) as plain functions over
 * the backend, the jobs store and a transfers store, so they go on (and stay testable)
 * whichever section is on screen.
 *
 * Ids are strings from the wire to the screen: nothing here calls `Number()` on one.
 */
import { get, writable, type Readable, type Writable } from "svelte/store";
import { SvelteSet } from "svelte/reactivity";
import { toAppError, type Backend } from "./backend";
import type { ApiRequest } from "./bindings/ApiRequest";
import type { AppError } from "./bindings/AppError";
import type { Connection } from "./bindings/Connection";
import type { DeploymentView } from "./bindings/DeploymentView";
import type { Downloaded } from "./bindings/Downloaded";
import type { KeyState } from "./bindings/KeyState";
import type { KnownDeployment } from "./bindings/KnownDeployment";
import type { NodeRow } from "./bindings/NodeRow";
import type { RemoteProgress } from "./bindings/RemoteProgress";
import type { SnapshotGroup } from "./bindings/SnapshotGroup";
import type { Waited } from "./bindings/Waited";
import type { JobsStore } from "./jobs";
import { formatBytes } from "./library";
import { relativeTime } from "./catalog";

// ---------------------------------------------------------------------------
// Connections.

export const KEY_STATE_LABELS: Record<KeyState, string> = {
  keyring: "Stored in keyring",
  session: "This session only",
  environment: "From LD_API_KEY",
  missing: "Missing",
};

export const DEMO_LABEL = "Demo (local emulator)";

/** The connection as the sidebar names it; the demo always says it is one. */
export function connectionLabel(c: Pick<Connection, "name" | "label" | "demo">): string {
  if (c.demo) return DEMO_LABEL;
  return c.label.trim() || c.name;
}

/** "ID" or "ID=NAME" entries, one per line or comma separated; blanks dropped. */
export function parseDeploymentsText(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The text a connection's deployments are edited as: one "ID=NAME" (or "ID") per line. */
export function deploymentsText(list: readonly KnownDeployment[]): string {
  return list.map((d) => (d.name.trim() ? `${d.id}=${d.name.trim()}` : d.id)).join("\n");
}

/** What a draft line says is wrong, or null: the id must be digits (kept as a string). */
export function deploymentLineError(line: string): string | null {
  const id = line.split("=")[0].trim();
  return /^\d+$/.test(id) ? null : `"${line}": the deployment id must be digits (ID or ID=NAME)`;
}

/** A deployment's name: the connection's, else the API's `deployment_name`, else its id. */
export function deploymentLabel(d: Pick<KnownDeployment, "id" | "name">, view?: Pick<DeploymentView, "deployment" | "deployment_name"> | null): string {
  if (d.name.trim()) return d.name.trim();
  if (view && view.deployment === d.id && view.deployment_name.trim()) return view.deployment_name.trim();
  return d.id;
}

// ---------------------------------------------------------------------------
// Errors from the Supervisor.

function details(e: AppError): Record<string, unknown> | null {
  return typeof e.details === "object" && e.details !== null ? (e.details as Record<string, unknown>) : null;
}

/** The Supervisor's request id of a failed call, when it gave one. */
export function requestIdOf(e: AppError): string | null {
  const id = details(e)?.request_id;
  return typeof id === "string" && id ? id : null;
}

/** The HTTP status of a failed call, when it had one. */
export function httpStatusOf(e: AppError): number | null {
  const s = details(e)?.status;
  return typeof s === "number" ? s : null;
}

/** The snapshot a 409 said is in progress. */
export function inProgressOf(e: AppError): string | null {
  const n = details(e)?.in_progress;
  return typeof n === "string" && n ? n : null;
}

/** The Supervisor could not be reached at all (as opposed to answering with an error). */
export function isUnreachable(e: AppError): boolean {
  return e.code === "network" || e.code === "timeout";
}

// ---------------------------------------------------------------------------
// Times.

/** "0:42", "12:03", "1:02:03": a duration as a clock. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** Time since `from`, as a clock; "" for a bad date. */
export function elapsed(from: string, now: number): string {
  const t = Date.parse(from);
  return Number.isNaN(t) ? "" : clock(now - t);
}

/** "expires in 4 d", "expires in 5 h", "expired 2 d ago"; null without a date. */
export function expiresLabel(at: string | null, now: number): string | null {
  if (!at) return null;
  const t = Date.parse(at);
  if (Number.isNaN(t)) return null;
  const rel = relativeTime(at, now);
  if (t > now) return rel === "just now" ? "expires in under a minute" : `expires ${rel}`;
  return rel === "just now" ? "expired just now" : `expired ${rel}`;
}

/** "12 s", "3 min", "1 h 5 min" from seconds (insight.ts's formatDuration takes milliseconds). */
export function formatSeconds(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return "—";
  const s = Math.ceil(secs);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`;
}

/**
 * Requests as curl commands (key as `$LD_API_KEY`). The downloads (or deletes) of a
 * snapshot's nodes differ only by the item id in the URL, so for those the backend is asked
 * once, for the first node, and the others are that command with their id: a thousand nodes
 * are one IPC call, not a thousand. Anything else (mixed kinds, or ids not written as the
 * Rust side writes a u64) is asked for one request at a time.
 */
export async function curlCommands(
  backend: Backend,
  connection: string,
  deployment: string,
  requests: readonly ApiRequest[],
): Promise<string[]> {
  const one = (r: ApiRequest) => backend.requestCurl(connection, deployment, r);
  const kind = requests[0]?.kind;
  const ids = requests.map((r) =>
    (r.kind === "download" || r.kind === "delete") && r.kind === kind && /^(0|[1-9]\d*)$/.test(r.id) ? r.id : null,
  );
  if (requests.length < 2 || ids.some((id) => id === null)) return Promise.all(requests.map(one));
  const template = await one(requests[0]);
  const parts = template.split(`/snapshots/${ids[0]}`);
  // Not the shape expected (the id twice, or not in the URL): ask for each.
  if (parts.length !== 2) return [template, ...(await Promise.all(requests.slice(1).map(one)))];
  return ids.map((id) => parts.join(`/snapshots/${id}`));
}

// ---------------------------------------------------------------------------
// Snapshot groups.

/** Nodes whose item failed, by id. */
export function failedNodes(g: SnapshotGroup): NodeRow[] {
  return g.nodes.filter((n) => n.status === "failed");
}

export interface LibraryCount {
  held: number;
  evicted: number;
}

/** How many of a snapshot's nodes the library holds (evicted ones counted apart). */
export function libraryCount(g: SnapshotGroup): LibraryCount {
  let held = 0;
  let evicted = 0;
  for (const n of g.nodes) {
    if (!n.library) continue;
    if (n.library.evicted) evicted++;
    else held++;
  }
  return { held, evicted };
}

/** A node's archive can be downloaded: it completed and the library has no readable copy. */
export function downloadable(n: NodeRow): boolean {
  return n.status === "completed" && (!n.library || n.library.evicted);
}

export type ListRow =
  | { kind: "group"; key: string; group: SnapshotGroup; expanded: boolean }
  | { kind: "node"; key: string; group: SnapshotGroup; node: NodeRow; last: boolean };

/** The rows of the windowed list: each snapshot, then its nodes when it is expanded. */
export function flattenRows(groups: readonly SnapshotGroup[], expanded: ReadonlySet<string>): ListRow[] {
  const out: ListRow[] = [];
  for (const group of groups) {
    const open = expanded.has(group.name);
    out.push({ kind: "group", key: `g:${group.name}`, group, expanded: open });
    if (!open) continue;
    group.nodes.forEach((node, i) =>
      out.push({ kind: "node", key: `n:${node.id}`, group, node, last: i === group.nodes.length - 1 }),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------
// Remembered view of the section (it survives a section switch).

export type DeploymentTab = "triage" | "snapshots";

export interface DeploymentsView {
  connection: string | null;
  deployment: string | null;
  tab: DeploymentTab;
  /** Names of the expanded snapshots of the selected deployment. */
  expanded: SvelteSet<string>;
}

const views = new WeakMap<object, DeploymentsView>();

export function deploymentsViewFor(backend: object): DeploymentsView {
  let v = views.get(backend);
  if (!v) views.set(backend, (v = { connection: null, deployment: null, tab: "triage", expanded: new SvelteSet() }));
  return v;
}

/** Bumped when a create, download or delete ended: the open deployment re-reads its list. */
export const remoteChanges: Writable<number> = writable(0);

/**
 * Bumped on every `connections_changed` event (the CLI added, edited or removed a context):
 * the Deployments section and Settings → Connections list the connections again.
 */
export const connectionsVersion: Writable<number> = writable(0);

function bump(store: Writable<number>) {
  store.update((v) => v + 1);
}

let jobSeq = 0;
function jobId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${++jobSeq}`;
}

// ---------------------------------------------------------------------------
// Create and wait.

export interface Target {
  connection: string;
  deployment: string;
  /** How the person knows the deployment (for job labels). */
  deploymentName: string;
}

export type CreateOutcome =
  | { kind: "done"; waited: Waited }
  | { kind: "conflict"; inProgress: string | null; error: AppError }
  | { kind: "cancelled" }
  | { kind: "failed"; error: AppError };

export interface CreateOptions {
  redactSecrets: boolean;
  includeIggy: boolean;
  /** The snapshot's name, once the Supervisor gave it. */
  oncreated?: (name: string) => void;
  changes?: Writable<number>;
}

/** Create a snapshot and follow it to its end, as a job in the status area. */
export async function runCreate(backend: Backend, jobs: JobsStore, target: Target, opts: CreateOptions): Promise<CreateOutcome> {
  const changes = opts.changes ?? remoteChanges;
  const id = jobId("create");
  jobs.add({
    id,
    label: `Creating a snapshot of ${target.deploymentName}`,
    detail: "Asking the Supervisor",
    progress: null,
    cancel: () => void backend.cancelJob(id).catch(() => {}),
  });
  const onProgress = (p: RemoteProgress) => {
    if (p.kind === "created") {
      jobs.update(id, { detail: `${p.name} · ${p.nodes} node${p.nodes === 1 ? "" : "s"} processing` });
      opts.oncreated?.(p.name);
      bump(changes);
    } else if (p.kind === "waiting") {
      const failed = p.failed ? `, ${p.failed} failed` : "";
      jobs.update(id, {
        detail: `${p.name} · ${p.completed} of ${p.total} nodes completed${failed}`,
        progress: p.total ? (p.completed + p.failed) / p.total : null,
      });
    }
  };
  try {
    const waited = await backend.snapshotCreate(
      target.connection,
      target.deployment,
      opts.redactSecrets,
      opts.includeIggy,
      id,
      onProgress,
    );
    if (waited.end === "completed") jobs.finish(id);
    else {
      const failed = waited.items.filter((i) => i.status === "failed").map((i) => i.node_id);
      jobs.finish(id, {
        status: "failed",
        error: waited.end === "timed_out" ? "stopped waiting: timed out" : `failed on node ${failed.join(", ")}`,
      });
    }
    return { kind: "done", waited };
  } catch (e) {
    const error = toAppError(e);
    if (error.code === "cancelled") {
      jobs.finish(id, { status: "cancelled" });
      return { kind: "cancelled" };
    }
    jobs.finish(id, { status: "failed", error: error.message });
    if (error.code === "conflict") return { kind: "conflict", inProgress: inProgressOf(error), error };
    return { kind: "failed", error };
  } finally {
    bump(changes);
  }
}

// ---------------------------------------------------------------------------
// Downloads.

export type TransferState = "queued" | "downloading" | "done" | "failed" | "cancelled";

/** One node's archive on its way into the library (keyed by its snapshot item id). */
export interface NodeTransfer {
  job: string;
  node_id: string;
  state: TransferState;
  downloaded: number;
  total: number | null;
  /** The library entry, once downloaded. */
  entry: string | null;
  /** Bytes the download started from (a resumed `.partial`). */
  resumedFrom: number | null;
  /** Bytes kept after a cancel: the next Download resumes from there. */
  partial: number | null;
  error: AppError | null;
}

export interface TransfersStore extends Readable<Record<string, NodeTransfer>> {
  snapshot(): Record<string, NodeTransfer>;
  patch(id: string, patch: Partial<NodeTransfer>): void;
  set(id: string, t: NodeTransfer): void;
}

/**
 * What a deployment's pane and its Snapshots tab run the remote flows with: the backend,
 * the jobs and transfers the flows report to (they outlive the section), and the store
 * bumped when a create, download or delete ended.
 */
export interface RemoteDeps {
  backend: Backend;
  jobs: JobsStore;
  transfers: TransfersStore;
  /** Bumped when a create, download or delete ended. */
  changes: Writable<number>;
}

export function createTransfers(): TransfersStore {
  const store = writable<Record<string, NodeTransfer>>({});
  return {
    subscribe: store.subscribe,
    snapshot: () => get(store),
    patch: (id, patch) =>
      store.update((all) => (all[id] ? { ...all, [id]: { ...all[id], ...patch } } : all)),
    set: (id, t) => store.update((all) => ({ ...all, [id]: t })),
  };
}

/** The app-wide transfers (they outlive a section switch). */
export const transfers = createTransfers();

/** "about 12 s left" from what is known: the current node's size and the average of the others. */
function timeLeft(remainingBytes: number | null, rate: number): string | null {
  if (remainingBytes === null || !(rate > 0)) return null;
  return `${formatSeconds(remainingBytes / rate)} left`;
}

export interface DownloadOptions {
  /** What the job is called: "snapshot-… · node 9007…" or "snapshot-… · 3 nodes". */
  label: string;
  now?: () => number;
  changes?: Writable<number>;
}

export type DownloadOutcome =
  | { kind: "done"; downloaded: Downloaded; failed: number; cancelled: boolean }
  | { kind: "failed"; error: AppError }
  | { kind: "cancelled" };

/**
 * Download nodes into the library as one job: bytes, rate, time left and the node being
 * fetched in the status area, each node's state in `transfers`. A cancel keeps what was
 * fetched (the next download resumes), whether the Rust side resolves with cancelled nodes
 * or rejects with `cancelled`.
 */
export async function runDownload(
  backend: Backend,
  jobs: JobsStore,
  store: TransfersStore,
  target: Target,
  nodes: readonly Pick<NodeRow, "id" | "node_id">[],
  opts: DownloadOptions,
): Promise<DownloadOutcome> {
  const now = opts.now ?? Date.now;
  const changes = opts.changes ?? remoteChanges;
  const id = jobId("download");
  const started = now();
  /** Bytes fetched by this run (a resumed part is not counted in the rate). */
  let fetched = 0;
  const done = new Map<string, number>();
  let current: { id: string; index: number; count: number; node: string; from: number; last: number; total: number | null } | null = null;

  for (const n of nodes) {
    const before = store.snapshot()[n.id];
    store.set(n.id, {
      job: id,
      node_id: n.node_id,
      state: "queued",
      downloaded: before?.partial ?? 0,
      total: before?.total ?? null,
      entry: null,
      resumedFrom: null,
      partial: before?.partial ?? null,
      error: null,
    });
  }
  jobs.add({
    id,
    label: `Downloading ${opts.label}`,
    detail: "Starting",
    progress: null,
    cancel: () => void backend.cancelJob(id).catch(() => {}),
  });

  const describe = () => {
    if (!current) return;
    const secs = Math.max(0.001, (now() - started) / 1000);
    const rate = fetched / secs;
    const sizes = [...done.values()];
    const avg = sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : current.total;
    const notStarted = current.count - current.index;
    const remaining =
      current.total === null || avg === null ? null : current.total - current.last + notStarted * avg;
    const bytesDone = sizes.reduce((a, b) => a + b, 0) + current.last;
    const bytesAll = avg === null || current.total === null ? null : sizes.reduce((a, b) => a + b, 0) + current.total + notStarted * avg;
    const parts = [
      `node ${current.index} of ${current.count}: ${current.node}`,
      bytesAll === null ? formatBytes(bytesDone) : `${formatBytes(bytesDone)} of ${formatBytes(bytesAll)}`,
    ];
    if (fetched > 0) parts.push(formatRate(rate));
    const left = timeLeft(remaining, rate);
    if (left && fetched > 0) parts.push(left);
    jobs.update(id, { detail: parts.join(" · "), progress: bytesAll ? bytesDone / bytesAll : null });
  };

  const onProgress = (p: RemoteProgress) => {
    if (p.kind === "node_started") {
      const before = store.snapshot()[p.snapshot_id]?.partial ?? 0;
      current = { id: p.snapshot_id, index: p.index, count: p.count, node: p.node_id, from: before, last: before, total: null };
      store.patch(p.snapshot_id, { state: "downloading" });
      describe();
    } else if (p.kind === "transfer") {
      if (current && current.id === p.snapshot_id) {
        if (p.downloaded > current.last) fetched += p.downloaded - current.last;
        current.last = p.downloaded;
        current.total = p.total;
      }
      store.patch(p.snapshot_id, { downloaded: p.downloaded, total: p.total, state: "downloading" });
      describe();
    } else if (p.kind === "node_finished") {
      if (p.ok) {
        store.patch(p.snapshot_id, { state: "done", partial: null });
        if (current?.id === p.snapshot_id) done.set(p.snapshot_id, current.total ?? current.last);
      } else {
        // Whether it failed or was cancelled is said by the result.
        store.patch(p.snapshot_id, { partial: current?.id === p.snapshot_id && current.last > 0 ? current.last : null });
      }
    }
  };

  const markCancelled = () => {
    for (const n of nodes) {
      const t = store.snapshot()[n.id];
      if (!t || t.job !== id || t.state === "done" || t.state === "failed") continue;
      const partial = t.downloaded > 0 ? t.downloaded : t.partial;
      store.patch(n.id, { state: "cancelled", partial: partial && partial > 0 ? partial : null });
    }
  };

  try {
    const downloaded = await backend.snapshotDownload(
      target.connection,
      target.deployment,
      nodes.map((n) => n.id),
      id,
      onProgress,
    );
    let failed = 0;
    let cancelled = false;
    for (const r of downloaded.nodes) {
      if (r.ok) {
        store.patch(r.snapshot_id, { state: "done", entry: r.entry, resumedFrom: r.resumed_from, partial: null, error: null });
      } else if (r.error?.code === "cancelled") {
        cancelled = true;
      } else {
        failed++;
        store.patch(r.snapshot_id, { state: "failed", error: r.error });
      }
    }
    // Nodes the result does not name were never started: the download was stopped.
    if (cancelled || downloaded.nodes.length < nodes.length) {
      cancelled = true;
      markCancelled();
    }
    if (cancelled) jobs.finish(id, { status: "cancelled" });
    else if (failed) jobs.finish(id, { status: "failed", error: `${failed} of ${nodes.length} nodes failed` });
    else jobs.finish(id);
    return { kind: "done", downloaded, failed, cancelled };
  } catch (e) {
    const error = toAppError(e);
    if (error.code === "cancelled") {
      markCancelled();
      jobs.finish(id, { status: "cancelled" });
      return { kind: "cancelled" };
    }
    for (const n of nodes) {
      const t = store.snapshot()[n.id];
      if (t?.job === id && t.state !== "done") store.patch(n.id, { state: "failed", error, partial: t.downloaded > 0 ? t.downloaded : null });
    }
    jobs.finish(id, { status: "failed", error: error.message });
    return { kind: "failed", error };
  } finally {
    bump(changes);
  }
}

// ---------------------------------------------------------------------------
// What the section says after an action.

export interface Notice {
  tone: "info" | "warn";
  text: string;
}

/** An action that failed, with the request to offer as curl. */
export interface ActionError {
  title: string;
  error: AppError;
  request: ApiRequest | null;
}

function nodes(n: number): string {
  return `${n} node${n === 1 ? "" : "s"}`;
}

/** The line after a create ended (a conflict says which snapshot is in progress). */
export function createNotice(outcome: CreateOutcome): Notice | null {
  if (outcome.kind === "conflict") {
    return {
      tone: "warn",
      text: outcome.inProgress
        ? `A snapshot is already in progress: ${outcome.inProgress}. It is selected below.`
        : "A snapshot is already in progress.",
    };
  }
  if (outcome.kind !== "done") return null;
  const w = outcome.waited;
  if (w.end === "completed") return { tone: "info", text: `${w.name} completed on ${nodes(w.items.length)}.` };
  if (w.end === "timed_out") return { tone: "warn", text: `Stopped waiting for ${w.name}: it is still processing on the Supervisor.` };
  const failed = w.items.filter((i) => i.status === "failed").map((i) => i.node_id);
  return { tone: "warn", text: `${w.name} failed on node ${failed.join(", ")}.` };
}

/** The line after a delete: how many server copies went, and what became of the library's. */
export function deleteNotice(name: string, deleted: number, libraryRemoved: number, alsoLibrary: boolean): Notice | null {
  if (deleted === 0) return null;
  const lib = libraryRemoved
    ? `; ${libraryRemoved} library cop${libraryRemoved === 1 ? "y" : "ies"} removed`
    : alsoLibrary
      ? ""
      : "; the library copies stay";
  return { tone: "info", text: `Deleted the server copy of ${name} on ${nodes(deleted)}${lib}.` };
}
