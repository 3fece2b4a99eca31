import { afterEach, describe, expect, it, vi } from "vitest";

const invokeMock = vi.hoisted(() => vi.fn());
vi.mock("@tauri-apps/api/core", () => ({ invoke: invokeMock }));

import {
  BackendError,
  FAKE_APP_INFO,
  createFakeBackend,
  createTauriBackend,
  fakeOptionsFromQuery,
  fakeSummary,
  isAppError,
  isTauri,
  selectBackend,
  toAppError,
  toBackendError,
} from "./index";
import { call } from "./tauri";
import type { AppError } from "../bindings/AppError";

const notFound: AppError = {
  code: "not_found",
  message: "snapshot abc not found",
  hint: "Refresh the list of snapshots.",
  details: { id: "abc" },
};

afterEach(() => invokeMock.mockReset());

describe("toAppError", () => {
  it("wraps a string as an internal error", () => {
    expect(toAppError("boom")).toEqual({ code: "internal", message: "boom", hint: null, details: null });
  });

  it("keeps an AppError as it crossed IPC", () => {
    expect(toAppError(notFound)).toEqual(notFound);
  });

  it("fills a missing hint and details with null", () => {
    expect(toAppError({ code: "io", message: "disk full" })).toEqual({
      code: "io",
      message: "disk full",
      hint: null,
      details: null,
    });
  });

  it("uses the message of an Error", () => {
    expect(toAppError(new TypeError("bad"))).toEqual({ code: "internal", message: "bad", hint: null, details: null });
  });

  it("stringifies unknown values", () => {
    expect(toAppError(undefined).message).toBe("undefined");
    expect(toAppError(42)).toEqual({ code: "internal", message: "42", hint: null, details: null });
    expect(toAppError({ nope: true }).code).toBe("internal");
    expect(toAppError({ code: 5, message: "x" }).code).toBe("internal");
  });

  it("recognises AppError shapes", () => {
    expect(isAppError(notFound)).toBe(true);
    expect(isAppError({ code: "", message: "x" })).toBe(false);
    expect(isAppError(null)).toBe(false);
    expect(isAppError("internal")).toBe(false);
  });

  it("unwraps a BackendError", () => {
    expect(toAppError(new BackendError(notFound))).toEqual(notFound);
    const be = new BackendError(notFound);
    expect(toBackendError(be)).toBe(be);
  });
});

describe("BackendError", () => {
  it("exposes code, message, hint and details", () => {
    const e = new BackendError(notFound);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("BackendError");
    expect(e.code).toBe("not_found");
    expect(e.message).toBe("snapshot abc not found");
    expect(e.hint).toBe("Refresh the list of snapshots.");
    expect(e.details).toEqual({ id: "abc" });
  });
});

describe("tauri backend", () => {
  it("calls app_info and returns the result", async () => {
    invokeMock.mockResolvedValueOnce(FAKE_APP_INFO);
    const b = createTauriBackend();
    expect(b.kind).toBe("tauri");
    await expect(b.appInfo()).resolves.toEqual(FAKE_APP_INFO);
    expect(invokeMock).toHaveBeenCalledWith("app_info", undefined);
  });

  it("calls open_archive, cancel_job (to cancel an open) and close_archive with their arguments", async () => {
    const b = createTauriBackend();
    const opened = { token: "t1", url: "report://localhost/t1/", summary: fakeSummary("/tmp/a.zip") };
    invokeMock.mockResolvedValueOnce(opened);
    await expect(b.openArchive("/tmp/a.zip")).resolves.toEqual(opened);
    expect(invokeMock).toHaveBeenLastCalledWith("open_archive", { path: "/tmp/a.zip", request: null });
    invokeMock.mockResolvedValueOnce(opened);
    await b.openArchive("/tmp/a.zip", "open-1");
    expect(invokeMock).toHaveBeenLastCalledWith("open_archive", { path: "/tmp/a.zip", request: "open-1" });
    invokeMock.mockResolvedValueOnce(null);
    await b.cancelOpen("open-1");
    expect(invokeMock).toHaveBeenLastCalledWith("cancel_job", { job: "open-1" });
    invokeMock.mockResolvedValueOnce(null);
    await expect(b.closeArchive("t1")).resolves.toBeNull();
    expect(invokeMock).toHaveBeenLastCalledWith("close_archive", { token: "t1" });
  });

  it("calls the insight commands with camelCase arguments and the scope spread out", async () => {
    const b = createTauriBackend();
    const dep = { deployment: "611298765432109056", host: null };
    const host = { deployment: null, host: "iggy-dev-01" };
    const cases: [() => Promise<unknown>, string, unknown][] = [
      [() => b.libraryScopes(), "library_scopes", undefined],
      [() => b.libraryTriage(dep), "library_triage", { deployment: "611298765432109056", host: null }],
      [() => b.libraryTriage(host), "library_triage", { deployment: null, host: "iggy-dev-01" }],
      [
        () => b.libraryTimeline("certificates.expiry", "node-2", dep),
        "library_timeline",
        { checkId: "certificates.expiry", node: "node-2", deployment: "611298765432109056", host: null },
      ],
      [
        () => b.libraryLogsAround(host, "2026-06-01T10:30:00Z", 300, 200),
        "library_logs_around",
        { deployment: null, host: "iggy-dev-01", at: "2026-06-01T10:30:00Z", windowSecs: 300, maxLines: 200 },
      ],
      [() => b.libraryDiff("1", "2"), "library_diff", { a: "1", b: "2" }],
      [() => b.libraryAnalysis("7"), "library_analysis", { id: "7" }],
      [() => b.libraryReanalyze(), "library_reanalyze", undefined],
      [() => b.libraryExportRedacted("7", "x-redacted.zip"), "library_export_redacted", { id: "7", name: "x-redacted.zip" }],
    ];
    for (const [run, command, args] of cases) {
      invokeMock.mockResolvedValueOnce({ ok: command });
      await expect(run()).resolves.toEqual({ ok: command });
      expect(invokeMock).toHaveBeenLastCalledWith(command, args);
    }
  });

  it("rejects openArchive with the AppError", async () => {
    const err = { code: "archive", message: "not a zip", hint: "Copy it again.", details: null };
    invokeMock.mockRejectedValueOnce(err);
    await expect(createTauriBackend().openArchive("/x.zip")).rejects.toMatchObject({ code: "archive", appError: err });
  });

  it("turns a string rejection into a BackendError with code internal", async () => {
    invokeMock.mockRejectedValueOnce("command app_info not found");
    const err = await createTauriBackend()
      .appInfo()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).appError).toEqual({
      code: "internal",
      message: "command app_info not found",
      hint: null,
      details: null,
    });
  });

  it("keeps an AppError rejection", async () => {
    invokeMock.mockRejectedValueOnce(notFound);
    await expect(call("whatever", { a: 1 })).rejects.toMatchObject({
      name: "BackendError",
      code: "not_found",
      message: "snapshot abc not found",
      hint: "Refresh the list of snapshots.",
      appError: notFound,
    });
    expect(invokeMock).toHaveBeenCalledWith("whatever", { a: 1 });
  });
});

describe("backend selection", () => {
  it("detects Tauri by __TAURI_INTERNALS__", () => {
    expect(isTauri({ __TAURI_INTERNALS__: {} })).toBe(true);
    expect(isTauri({})).toBe(false);
    expect(isTauri(null)).toBe(false);
    expect(selectBackend({ __TAURI_INTERNALS__: {} }).kind).toBe("tauri");
    expect(selectBackend({}).kind).toBe("fake");
  });

  it("reads browser preview knobs from the query", () => {
    expect(fakeOptionsFromQuery("")).toEqual({});
    expect(fakeOptionsFromQuery("?fake=slow").delayMs).toBe(1500);
    expect(fakeOptionsFromQuery("?fake=error").failures?.appInfo?.code).toBe("config");
  });
});

describe("fake backend", () => {
  it("returns plausible AppInfo", async () => {
    const b = createFakeBackend();
    const info = await b.appInfo();
    expect(info.product_name).toBe("Snapdesk");
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.paths.data_dir).toContain("snapdesk");
    expect(b.calls).toEqual(["appInfo"]);
  });

  it("returns copies, not its own state", async () => {
    const b = createFakeBackend();
    const first = await b.appInfo();
    first.version = "mutated";
    expect((await b.appInfo()).version).toBe(FAKE_APP_INFO.version);
  });

  it("can be given AppInfo and changed later", async () => {
    const b = createFakeBackend({ appInfo: { ...FAKE_APP_INFO, version: "9.9.9" } });
    expect((await b.appInfo()).version).toBe("9.9.9");
    b.setAppInfo({ ...FAKE_APP_INFO, home_overridden: true });
    expect((await b.appInfo()).home_overridden).toBe(true);
  });

  it("fails with a BackendError when told to, and recovers", async () => {
    const b = createFakeBackend({ failures: { appInfo: notFound } });
    await expect(b.appInfo()).rejects.toBeInstanceOf(BackendError);
    await expect(b.appInfo()).rejects.toMatchObject({ appError: notFound });
    b.fail("appInfo", null);
    await expect(b.appInfo()).resolves.toEqual(FAKE_APP_INFO);
    b.fail("appInfo", { code: "timeout", message: "slow", hint: null, details: null });
    await expect(b.appInfo()).rejects.toMatchObject({ code: "timeout" });
  });

  it("honours delayMs", async () => {
    vi.useFakeTimers();
    try {
      const b = createFakeBackend({ delayMs: 1000 });
      let done = false;
      const p = b.appInfo().then(() => (done = true));
      await vi.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await p;
      expect(done).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("fake backend: archives", () => {
  it("opens a .zip with a plausible summary", async () => {
    const b = createFakeBackend();
    const path = "/home/me/snapshot-20260601-103000-node-1.zip";
    const opened = await b.openArchive(path);
    expect(opened.token).toMatch(/^\w+$/);
    expect(opened.url).toBe("about:blank");
    expect(opened.summary).toMatchObject({
      kind: "snapdesk",
      file_name: "snapshot-20260601-103000-node-1.zip",
      path,
      host_name: "iggy-prod-node-1",
      node_id: "node-1",
      created_at: "2026-06-01T10:30:00Z",
      redacted: true,
    });
    expect(opened.summary.counts?.fail).toBe(1);
    expect(opened.summary.size_bytes).toBeGreaterThan(0);
    const again = await b.openArchive(path);
    expect(again.token).not.toBe(opened.token);
    await expect(b.closeArchive(opened.token)).resolves.toBeUndefined();
    // Like the Rust side, closing twice is fine.
    await expect(b.closeArchive(opened.token)).resolves.toBeUndefined();
    expect(b.calls).toEqual(["openArchive", "openArchive", "closeArchive", "closeArchive"]);
  });

  it("derives kind and redaction from the name", () => {
    expect(fakeSummary("/d/report-20260531-221512-node-2-unredacted.zip")).toMatchObject({
      kind: "html",
      redacted: false,
    });
    expect(fakeSummary("/d/iggy-snapshot.zip")).toMatchObject({ kind: "iggy_snapshot", counts: null, redacted: null });
  });

  it("fails like the Rust side for missing, bad and non-ZIP paths", async () => {
    const b = createFakeBackend();
    await expect(b.openArchive("/home/me/missing.zip")).rejects.toMatchObject({
      name: "BackendError",
      code: "not_found",
      hint: expect.stringMatching(/snapshot ZIP/),
    });
    await expect(b.openArchive("/home/me/bad.zip")).rejects.toMatchObject({ code: "archive" });
    await expect(b.openArchive("/home/me/notes.txt")).rejects.toMatchObject({ code: "archive" });
    await expect(b.openArchive("   ")).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("can be told to fail openArchive", async () => {
    const b = createFakeBackend({ failures: { openArchive: notFound } });
    await expect(b.openArchive("/a.zip")).rejects.toMatchObject({ appError: notFound });
    b.fail("openArchive", null);
    await expect(b.openArchive("/a.zip")).resolves.toMatchObject({ url: "about:blank" });
  });
});
