import type { AppError } from "../bindings/AppError";
import type { AppInfo } from "../bindings/AppInfo";
import type { ArchiveSummary } from "../bindings/ArchiveSummary";
import type { OpenedReport } from "../bindings/OpenedReport";
import { BackendError } from "./errors";
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

export type FakeCommand = "appInfo" | "openArchive" | "cancelOpen" | "closeArchive";

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
    deployment_name: iggy ? null : "iggy-prod",
    node_id: node,
    created_at: iggy ? null : created_at,
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
}

export interface FakeBackend extends Backend {
  readonly kind: "fake";
  /** Commands called so far, in order. */
  readonly calls: FakeCommand[];
  setAppInfo(info: AppInfo): void;
  /** Make `command` reject with `error` (or succeed again with `null`). */
  fail(command: FakeCommand, error: AppError | null): void;
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
        const token = `fake${(++seq).toString(16).padStart(12, "0")}`;
        open.add(token);
        // The browser preview cannot serve report pages; the frame shows about:blank.
        const summary = fakeSummary(p);
        return { token, url: "about:blank", iggy_url: summary.has_iggy_data ? "about:blank" : null, summary };
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
    closeArchive: (token) =>
      answer("closeArchive", () => {
        // Like the Rust side: closing an unknown token is not an error.
        open.delete(token);
      }),
    setAppInfo(info) {
      appInfo = structuredClone(info);
    },
    fail(command, error) {
      if (error) failures[command] = error;
      else delete failures[command];
    },
  };
}
