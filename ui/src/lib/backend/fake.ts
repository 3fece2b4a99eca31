import type { AppError } from "../bindings/AppError";
import type { AppInfo } from "../bindings/AppInfo";
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

export type FakeCommand = "appInfo";

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

  function answer<T>(command: FakeCommand, value: () => T): Promise<T> {
    calls.push(command);
    return new Promise<T>((resolve, reject) => {
      const settle = () => {
        const failure = failures[command];
        if (failure) reject(new BackendError(structuredClone(failure)));
        else resolve(value());
      };
      if (delayMs > 0) setTimeout(settle, delayMs);
      else queueMicrotask(settle);
    });
  }

  return {
    kind: "fake",
    calls,
    appInfo: () => answer("appInfo", () => structuredClone(appInfo)),
    setAppInfo(info) {
      appInfo = structuredClone(info);
    },
    fail(command, error) {
      if (error) failures[command] = error;
      else delete failures[command];
    },
  };
}
