import type { AppError } from "../bindings/AppError";
import type { AppInfo } from "../bindings/AppInfo";
import type { ArchiveSummary } from "../bindings/ArchiveSummary";
import type { AppEvent } from "../bindings/AppEvent";
import type { Browse } from "../bindings/Browse";
import type { CheckBrief } from "../bindings/CheckBrief";
import type { Entry } from "../bindings/Entry";
import type { OpenedReport } from "../bindings/OpenedReport";
import type { Sort } from "../bindings/Sort";
import type { StatusCounts } from "../bindings/StatusCounts";
import { BackendError } from "./errors";
import * as insight from "./fake-insight";
import { createFakeRemote, type FakeRemote, type FakeRemoteOptions } from "./fake-remote";
import type { Backend } from "./types";

/** Plausible `AppInfo` for a Linux machine, used in browser dev and tests. */
export const FAKE_APP_INFO: AppInfo = {
  product_name: "Snapdesk",
  version: "0.1.0",
  os: "linux",
  arch: "x86_64",
  paths: {
    config_dir: "/home/dev/.config/snapdesk",
    data_dir: "/home/dev/.local/share/snapdesk",
    cache_dir: "/home/dev/.cache/snapdesk",
    log_dir: "/home/dev/.local/state/snapdesk/logs",
  },
  home_overridden: false,
};

export type FakeCommand =
  | "appInfo"
  | "subscribe"
  | "openArchive"
  | "cancelOpen"
  | "cancelJob"
  | "closeArchive"
  | "pickArchives"
  | "pickPath"
  | "libraryBrowse"
  | "libraryOpen"
  | "libraryShow"
  | "libraryPin"
  | "libraryNote"
  | "libraryTag"
  | "libraryRemove"
  | "libraryExport"
  | "libraryDiff"
  | "libraryMatrix"
  | "libraryScopes"
  | "libraryTriage"
  | "libraryTimeline"
  | "libraryLogsAround"
  | "libraryAnalysis"
  | "libraryReanalyze"
  | "libraryExportRedacted"
  | "openLink"
  | "archiveFiles"
  | "archiveFilePage"
  | "archiveFileExport"
  | "collectRun"
  | "connectionsList"
  | "connectionSave"
  | "connectionTest"
  | "connectionRemove"
  | "demoStart"
  | "deploymentSnapshots"
  | "snapshotCreate"
  | "snapshotDownload"
  | "snapshotDelete"
  | "requestCurl"
  | "copyText";

function appError(code: AppError["code"], message: string, hint: string | null): BackendError {
  return new BackendError({ code, message, hint, details: null });
}

/**
 * A plausible summary for `path`, derived from its file name so previews and
 * tests are deterministic: a name with "report" is an HTML report, one that
 * starts with "iggy" a raw Iggy snapshot, anything else a Snapdesk snapshot;
 * "unredacted" in the path marks secrets as not redacted.
 */
export function fakeSummary(path: string): ArchiveSummary {
  const file_name = path.split(/[\\/]/).pop() ?? path;
  const stem = file_name.replace(/\.zip$/i, "");
  const kind: ArchiveSummary["kind"] = /report/i.test(file_name)
    ? "html"
    : /^iggy/i.test(file_name)
      ? "iggy_snapshot"
      : "snapdesk";
  const node = /node-\d+/i.exec(file_name)?.[0] ?? null;
  const host = node ? `iggy-prod-${node}` : "iggy-dev-01";
  const stamp = /(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(file_name);
  const created_at = stamp
    ? `${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}Z`
    : "2026-06-01T10:30:00Z";
  const iggy = kind === "iggy_snapshot";
  return {
    kind,
    file_name,
    path,
    title: iggy ? `Iggy snapshot ${file_name}` : kind === "html" ? `Diagnostic report · ${host}` : `Snapshot of ${host}`,
    host_name: iggy ? null : host,
    snapshot_name: stem,
    deployment_id: iggy ? null : "611298765432109056",
    deployment_name: iggy ? null : "iggy-prod",
    node_id: node,
    created_at: iggy ? null : created_at,
    collector: iggy ? null : "snapdesk-collector 0.1.0",
    redacted: iggy ? null : !/unredacted/i.test(path),
    counts: iggy
      ? null
      : kind === "html"
        ? { pass: 41, warn: 1, fail: 0, info: 4, error: 0, skipped: 0 }
        : { pass: 38, warn: 3, fail: 1, info: 6, error: 0, skipped: 2 },
    claimed_counts: null,
    integrity: {
      state: kind === "snapdesk" ? (/tampered/i.test(path) ? "mismatch" : "verified") : "unverifiable",
      mismatched: /tampered/i.test(path) ? ["report.html"] : [],
      missing: [],
      unlisted: [],
    },
    sections: iggy ? ["Server logs"] : [],
    notes: iggy ? ["Server logs: showing the last 1.0 MiB of 3.1 MiB."] : [],
    report_shown: true,
    has_iggy_data: true,
    size_bytes: 1_843_200 + path.length * 9_137,
  };
}

export interface FakeBackendOptions {
  appInfo?: AppInfo;
  /** Make a command reject with this error instead of resolving. */
  failures?: Partial<Record<FakeCommand, AppError>>;
  /** Delay every answer by this many milliseconds (0 = next microtask). */
  delayMs?: number;
  /** Library entries to start with (see `fakeEntry`). */
  entries?: Entry[];
  /** What the file dialog "picks". */
  picks?: string[];
  /** The Supervisor side: connections, deployments, timings (none by default: a first run). */
  remote?: FakeRemoteOptions;
}

const ZERO: StatusCounts = { pass: 0, warn: 0, fail: 0, info: 0, error: 0, skipped: 0 };

/** A library entry for tests and previews; `n` makes ids, names and times distinct. */
export function fakeEntry(n: number, over: Partial<Entry> = {}): Entry {
  const node = `node-${(n % 3) + 1}`;
  const day = String(1 + (n % 28)).padStart(2, "0");
  return {
    id: String(n),
    sha256: n.toString(16).padStart(64, "0"),
    size: 1_000_000 + n * 7_919,
    kind: "snapdesk",
    title: `Snapshot of iggy-prod-${node}`,
    snapshot_name: `snapshot-202606${day}-1030${String(n % 60).padStart(2, "0")}`,
    deployment_id: "611298765432109056",
    deployment_name: n % 4 === 0 ? "iggy-staging" : "iggy-prod",
    node_id: node,
    host_name: `iggy-prod-${node}`,
    created_at: `2026-06-${day}T10:30:00Z`,
    completed_at: `2026-06-${day}T10:31:00Z`,
    added_at: `2026-06-${day}T11:00:${String(n % 60).padStart(2, "0")}Z`,
    last_opened_at: null,
    expires_at: null,
    redacted: true,
    has_iggy: n % 2 === 0,
    checks: { pass: 40, warn: n % 3, fail: n % 5 === 0 ? 2 : 0, info: 4, error: 0, skipped: 1 },
    pinned: false,
    note: "",
    tags: [],
    evicted_at: null,
    downloadable: false,
    integrity: "verified",
    ...over,
  };
}

function addCounts(a: StatusCounts, b: StatusCounts): StatusCounts {
  return {
    pass: a.pass + b.pass,
    warn: a.warn + b.warn,
    fail: a.fail + b.fail,
    info: a.info + b.info,
    error: a.error + b.error,
    skipped: a.skipped + b.skipped,
  };
}

/** The library's query language, roughly, over entries (the Rust side is the reference). */
export function fakeMatches(e: Entry, query: string): boolean {
  for (const word of query.trim().split(/\s+/).filter(Boolean)) {
    const [k, ...rest] = word.split(":");
    const v = rest.join(":").toLowerCase();
    const has = (x: string | null) => (x ?? "").toLowerCase().includes(v);
    if (rest.length === 0) {
      const w = word.toLowerCase();
      const text = [e.title, e.node_id, e.host_name, e.deployment_name, e.snapshot_name, e.note, ...e.tags]
        .join(" ")
        .toLowerCase();
      if (!text.includes(w)) return false;
    } else if (k === "status") {
      if (!(e.checks[v as keyof StatusCounts] > 0)) return false;
    } else if (k === "node") {
      if (!has(e.node_id) && !has(e.host_name)) return false;
    } else if (k === "deployment") {
      if (!has(e.deployment_name) && !has(e.deployment_id)) return false;
    } else if (k === "tag") {
      if (!e.tags.some((t) => t.toLowerCase() === v)) return false;
    } else if (k === "pinned") {
      if (e.pinned !== (v === "yes" || v === "true")) return false;
    } else if (k === "has" && v === "iggy") {
      if (!e.has_iggy) return false;
    }
  }
  return true;
}

function sortEntries(list: Entry[], sort: Sort): Entry[] {
  const by = (f: (e: Entry) => string | number | null, desc: boolean) => (a: Entry, b: Entry) => {
    const x = f(a);
    const y = f(b);
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return (x < y ? -1 : 1) * (desc ? -1 : 1);
  };
  const fns: Record<Sort, (a: Entry, b: Entry) => number> = {
    added: by((e) => e.added_at, true),
    created: by((e) => e.created_at, true),
    opened: by((e) => e.last_opened_at, true),
    failures: by((e) => e.checks.fail + e.checks.error, true),
    size: by((e) => e.size, true),
    node: by((e) => (e.node_id ?? e.host_name)?.toLowerCase() ?? null, false),
    deployment: by((e) => (e.deployment_name ?? e.deployment_id)?.toLowerCase() ?? null, false),
  };
  return [...list].sort(fns[sort]);
}

const FAKE_CHECKS: CheckBrief[] = [
  { id: "certificates.expiry", category: "certificates", title: "TLS certificate expiry", status: "fail", summary: "server.pem expires in 6 days", anchor: "check-certificates.expiry" },
  { id: "kernel.vm_swappiness", category: "kernel", title: "vm.swappiness", status: "warn", summary: "60 (recommended 1)", anchor: "check-kernel.vm_swappiness" },
  { id: "storage.free", category: "storage", title: "Free space on the data disk", status: "pass", summary: "412 GiB free (81 %)", anchor: "check-storage.free" },
];

export interface FakeBackend extends Backend {
  readonly kind: "fake";
  /** Every text put on the clipboard through `copyText`, oldest first. */
  readonly copied: string[];
  /** Commands called so far, in order. */
  readonly calls: FakeCommand[];
  setAppInfo(info: AppInfo): void;
  /** Push an event as the Rust side would (files to open, a link request). */
  emit(event: AppEvent): void;
  /** Make `command` reject with `error` (or succeed again with `null`). */
  fail(command: FakeCommand, error: AppError | null): void;
  /** The fake Supervisor, for tests that change it underneath the UI. */
  readonly remote: FakeRemote;
}

/** In-memory stand-in for the Tauri backend. */
export function createFakeBackend(options: FakeBackendOptions = {}): FakeBackend {
  let appInfo: AppInfo = structuredClone(options.appInfo ?? FAKE_APP_INFO);
  const failures: Partial<Record<FakeCommand, AppError>> = { ...options.failures };
  const delayMs = options.delayMs ?? 0;
  const calls: FakeCommand[] = [];
  const open = new Set<string>();
  const pending = new Map<string, () => void>();
  let seq = 0;
  let entries: Entry[] = structuredClone(options.entries ?? []);
  let nextId = entries.reduce((m, e) => Math.max(m, Number(e.id)), 0) + 1;
  let listener: ((e: AppEvent) => void) | null = null;
  const copied: string[] = [];
  let reanalyzed = false;
  const changed = () => listener?.({ kind: "library_changed", seq: ++seq });
  const entry = (id: string) => {
    const e = entries.find((x) => x.id === id);
    if (!e) throw appError("not_found", `no library entry ${id}`, "Refresh the library.");
    return e;
  };
  function opened(summary: ArchiveSummary, entry_id: string | null): OpenedReport {
    const token = `fake${(++seq).toString(16).padStart(12, "0")}`;
    open.add(token);
    // The browser preview cannot serve report pages; the frame shows about:blank.
    return {
      token,
      url: "about:blank",
      iggy_url: summary.has_iggy_data ? "about:blank" : null,
      summary,
      checks: summary.counts ? structuredClone(FAKE_CHECKS) : [],
      entry_id,
    };
  }

  const remote = createFakeRemote(options.remote ?? {}, {
    entries: () => entries,
    add: (fields) => {
      const e = fakeEntry(nextId++, { ...fields, note: "", tags: [], pinned: false });
      entries.push(e);
      changed();
      return e.id;
    },
    remove: (id) => {
      entries = entries.filter((e) => e.id !== id);
      changed();
    },
  });

  /** Like `answer`, for commands that go on after their first answer (a wait, a download). */
  function answerLater<T>(command: FakeCommand, value: () => Promise<T>): Promise<T> {
    return answer(command, value).then((p) => p);
  }

  function answer<T>(command: FakeCommand, value: () => T): Promise<T> {
    calls.push(command);
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        const failure = failures[command];
        if (failure) {
          reject(new BackendError(structuredClone(failure)));
          return;
        }
        try {
          resolve(value());
        } catch (e) {
          reject(e);
        }
      };
      if (delayMs > 0) setTimeout(settle, delayMs);
      else queueMicrotask(settle);
    });
  }

  return {
    kind: "fake",
    calls,
    appInfo: () => answer("appInfo", () => structuredClone(appInfo)),
    openArchive: (path, request) => {
      const opening = answer("openArchive", (): OpenedReport => {
        const p = path.trim();
        if (!p) throw appError("invalid_input", "no path given", "Give the path of a snapshot ZIP.");
        if (/missing/i.test(p)) throw appError("not_found", `${p} is not a file`, "Give the path of a snapshot ZIP.");
        if (/bad/i.test(p) || !/\.zip$/i.test(p)) {
          throw appError(
            "archive",
            `${p.split(/[\\/]/).pop()} is not a readable ZIP archive: invalid central directory`,
            "The file may be truncated or not a ZIP; copy or download it again.",
          );
        }
        const summary = fakeSummary(p);
        // Like the Rust side: the file lands in the library (once per path here).
        let e = entries.find((x) => x.note === `file:${p}`);
        if (!e) {
          e = fakeEntry(nextId++, {
            title: summary.title,
            kind: summary.kind,
            snapshot_name: summary.snapshot_name,
            node_id: summary.node_id,
            host_name: summary.host_name,
            deployment_name: summary.deployment_name,
            created_at: summary.created_at,
            added_at: new Date().toISOString(),
            checks: summary.counts ?? ZERO,
            has_iggy: summary.has_iggy_data,
            redacted: summary.redacted,
            note: `file:${p}`,
          });
          entries.push(e);
          changed();
        }
        return opened(summary, e.id);
      });
      if (!request) return opening;
      // Like the Rust side: a cancelled open rejects with `cancelled`, whatever it found.
      const cancelled = new Promise<never>((_, reject) => {
        pending.set(request, () => reject(appError("cancelled", "opening was cancelled", null)));
      });
      return Promise.race([opening, cancelled]).finally(() => pending.delete(request));
    },
    cancelOpen: (request) => {
      // Takes effect at once, however slow the fake's answers are.
      pending.get(request)?.();
      return answer("cancelOpen", () => undefined);
    },
    cancelJob: (job) => {
      pending.get(job)?.();
      remote.cancel(job);
      return answer("cancelJob", () => undefined);
    },
    subscribe: (onEvent) =>
      answer("subscribe", () => {
        listener = onEvent;
      }),
    pickArchives: () => answer("pickArchives", () => [...(options.picks ?? [])]),
    pickPath: (kind) => answer("pickPath", () => (kind === "dir" ? "/var/lib/iggy" : "/etc/iggy/config.toml")),
    libraryBrowse: (query, sort, offset, limit) =>
      answer("libraryBrowse", (): Browse => {
        const matched = entries.filter((e) => fakeMatches(e, query));
        return {
          items: sortEntries(matched, sort).slice(offset, offset + limit).map((e) => structuredClone(e)),
          total: matched.length,
          totals: matched.reduce((t, e) => addCounts(t, e.checks), ZERO),
          evicted: matched.filter((e) => e.evicted_at).length,
        };
      }),
    libraryOpen: (id) =>
      answer("libraryOpen", () => {
        const e = entry(id);
        if (e.evicted_at) throw appError("not_found", `entry ${id} was evicted`, "Download it again.");
        e.last_opened_at = new Date().toISOString();
        const summary = fakeSummary(`/library/${e.snapshot_name ?? e.id}-${e.node_id ?? "host"}.zip`);
        return opened({ ...summary, title: e.title, counts: e.checks }, e.id);
      }),
    libraryShow: (id) =>
      answer("libraryShow", () => ({
        ...structuredClone(entry(id)),
        integrity_detail: null,
        origins: [{ kind: "file" as const, path: `/home/dev/Downloads/${entry(id).snapshot_name}.zip`, at: entry(id).added_at }],
      })),
    libraryPin: (id, pinned) =>
      answer("libraryPin", () => {
        entry(id).pinned = pinned;
        changed();
      }),
    libraryNote: (id, note) =>
      answer("libraryNote", () => {
        entry(id).note = note;
        changed();
      }),
    libraryTag: (id, add, remove) =>
      answer("libraryTag", () => {
        const e = entry(id);
        e.tags = [...new Set([...e.tags.filter((t) => !remove.includes(t)), ...add])].sort();
        changed();
        return [...e.tags];
      }),
    libraryRemove: (id) =>
      answer("libraryRemove", () => {
        entry(id);
        entries = entries.filter((e) => e.id !== id);
        changed();
      }),
    libraryExport: (id, name) => answer("libraryExport", () => (entry(id) ? `/home/dev/${name}` : null)),
    libraryDiff: (a, b) =>
      answer("libraryDiff", () => ({
        ...insight.fakeContinuity(entry(a), entry(b)),
        a: structuredClone(entry(a)),
        b: structuredClone(entry(b)),
        status_changed: [{ check_id: "certificates.expiry", title: "TLS certificate expiry", before: "pass", after: "fail" }],
        added: [],
        gone: [],
        facts_changed: [{ check_id: "certificates.expiry", key: "days_left", before: "36", after: "6" }],
        unchanged: 40,
      })),
    libraryMatrix: (name) =>
      answer("libraryMatrix", () => {
        const nodes = entries.filter((e) => e.snapshot_name === name);
        return {
          snapshot_name: name,
          nodes: nodes.map((e) => e.node_id ?? e.host_name ?? e.id),
          entry_ids: nodes.map((e) => e.id),
          rows: FAKE_CHECKS.map((c, i) => ({
            check_id: c.id,
            title: c.title,
            statuses: nodes.map((_, j) => (i === 0 && j === 0 ? "pass" : c.status)),
            differs: i === 0 && nodes.length > 1,
          })),
        };
      }),
    libraryScopes: () => answer("libraryScopes", () => insight.fakeScopes(entries)),
    libraryTriage: (scope) => answer("libraryTriage", () => insight.fakeTriage(entries, scope)),
    libraryTimeline: (check, node, scope) => answer("libraryTimeline", () => insight.fakeTimeline(entries, check, node, scope)),
    libraryLogsAround: (scope, at, secs, max) => answer("libraryLogsAround", () => insight.fakeLogsAround(entries, scope, at, secs, max)),
    libraryAnalysis: (id) => answer("libraryAnalysis", () => insight.fakeAnalysis(entry(id), reanalyzed)),
    libraryReanalyze: () => answer("libraryReanalyze", () => ((reanalyzed = true), insight.fakeReanalysis(entries))),
    libraryExportRedacted: (id, name) => answer("libraryExportRedacted", () => insight.fakeRedactedCopy(entry(id), name)),
    openLink: (url) => answer("openLink", () => void url),
    archiveFiles: (token) =>
      answer("archiveFiles", () => {
        if (!open.has(token)) throw appError("not_found", "this archive is no longer open", null);
        return [
          { path: "report.html", size: 184_320, compressed: 40_112, nested: false, kind: "html" as const },
          { path: "manifest.json", size: 2_210, compressed: 801, nested: false, kind: "json" as const },
          { path: "iggy/server.toml", size: 9_870, compressed: 3_004, nested: false, kind: "text" as const },
          { path: "iggy-data.zip", size: 5_242_880, compressed: 5_242_880, nested: false, kind: "zip" as const },
          { path: "iggy-data.zip/streams/1/topics/1/partitions/1/00000000000000000000.log", size: 1_048_576, compressed: 1_048_576, nested: true, kind: "binary" as const },
          { path: "iggy-data.zip/state/metadata.json", size: 640, compressed: 300, nested: true, kind: "json" as const },
        ];
      }),
    archiveFilePage: (token, file) => answer("archiveFilePage", () => `about:blank#${token}/${encodeURIComponent(file)}`),
    archiveFileExport: (_token, file) => answer("archiveFileExport", () => `/home/dev/${file.split("/").pop()}`),
    collectRun: (request, job, onProgress) => {
      const run = answer("collectRun", () => {
        onProgress({ kind: "started", checks: FAKE_CHECKS.length });
        FAKE_CHECKS.forEach((c, i) =>
          onProgress({ kind: "check", done: i + 1, total: FAKE_CHECKS.length, id: c.id, title: c.title, status: c.status, duration_ms: 12 }),
        );
        onProgress({ kind: "writing" });
        const summary = { ...fakeSummary("/library/snapshot-20260601-103000-iggy-dev-01.zip"), redacted: request.redact };
        const e = fakeEntry(nextId++, { title: summary.title, redacted: request.redact, added_at: new Date().toISOString() });
        entries.push(e);
        changed();
        return opened(summary, e.id);
      });
      const cancelled = new Promise<never>((_, reject) => {
        pending.set(job, () => reject(appError("cancelled", "the collection was cancelled", null)));
      });
      return Promise.race([run, cancelled]).finally(() => pending.delete(job));
    },
    closeArchive: (token) =>
      answer("closeArchive", () => {
        // Like the Rust side: closing an unknown token is not an error.
        open.delete(token);
      }),
    connectionsList: () => answer("connectionsList", () => remote.connectionsList()),
    connectionSave: (draft) => answer("connectionSave", () => remote.connectionSave(structuredClone(draft))),
    connectionTest: (name, deployment) => answer("connectionTest", () => remote.connectionTest(name, deployment)),
    connectionRemove: (name) => answer("connectionRemove", () => remote.connectionRemove(name)),
    demoStart: () => answer("demoStart", () => remote.demoStart()),
    deploymentSnapshots: (connection, deployment) =>
      answer("deploymentSnapshots", () => remote.deploymentSnapshots(connection, deployment)),
    snapshotCreate: (connection, deployment, redact, iggy, job, onProgress) =>
      answerLater("snapshotCreate", () => remote.snapshotCreate(connection, deployment, redact, iggy, job, onProgress)),
    snapshotDownload: (connection, deployment, ids, job, onProgress) =>
      answerLater("snapshotDownload", () => remote.snapshotDownload(connection, deployment, [...ids], job, onProgress)),
    snapshotDelete: (connection, deployment, ids, alsoLibrary) =>
      answer("snapshotDelete", () => remote.snapshotDelete(connection, deployment, [...ids], alsoLibrary)),
    requestCurl: (connection, deployment, request) =>
      answer("requestCurl", () => remote.requestCurl(connection, deployment, request)),
    copyText: (text) =>
      answer("copyText", () => {
        copied.push(text);
      }),
    copied,
    remote,
    emit(event) {
      listener?.(event);
    },
    setAppInfo(info) {
      appInfo = structuredClone(info);
    },
    fail(command, error) {
      if (error) failures[command] = error;
      else delete failures[command];
    },
  };
}
