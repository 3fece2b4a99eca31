import { describe, expect, it } from "vitest";
import { get } from "svelte/store";
import { fakeSummary } from "./backend";
import type { OpenedReport } from "./bindings/OpenedReport";
import {
  createLibraryStore,
  formatBytes,
  formatCreated,
  hostOrFile,
  kindLabel,
  statusChips,
} from "./library";

function opened(token: string, path = `/tmp/${token}.zip`): OpenedReport {
  return { token, url: `report://localhost/${token}/`, iggy_url: null, summary: fakeSummary(path), checks: [], entry_id: null };
}

describe("library store", () => {
  it("starts empty, on the list", () => {
    expect(get(createLibraryStore())).toEqual({ entries: [], viewing: null });
  });

  it("adds newest first with the time it was opened", () => {
    let t = 100;
    const s = createLibraryStore(() => t++);
    expect(s.add(opened("a"))).toBeNull();
    expect(s.add(opened("b"))).toBeNull();
    expect(s.snapshot().entries.map((e) => [e.token, e.openedAt])).toEqual([
      ["b", 101],
      ["a", 100],
    ]);
    expect(s.find("a")?.url).toBe("report://localhost/a/");
    expect(s.find("zzz")).toBeUndefined();
  });

  it("replaces an entry for the same path and returns it", () => {
    const s = createLibraryStore();
    s.add(opened("a", "/x/one.zip"));
    s.add(opened("b", "/x/two.zip"));
    s.view("a");
    const replaced = s.add(opened("c", "/x/one.zip"));
    expect(replaced?.token).toBe("a");
    expect(s.snapshot().entries.map((e) => e.token)).toEqual(["c", "b"]);
    // The viewer was showing the replaced token: back to the list.
    expect(s.snapshot().viewing).toBeNull();
  });

  it("views known entries only, and null goes back to the list", () => {
    const s = createLibraryStore();
    s.add(opened("a"));
    expect(s.view("nope")).toBe(false);
    expect(s.snapshot().viewing).toBeNull();
    expect(s.view("a")).toBe(true);
    expect(s.snapshot().viewing).toBe("a");
    expect(s.view(null)).toBe(true);
    expect(s.snapshot().viewing).toBeNull();
  });

  it("removes entries and leaves the viewer when it showed one", () => {
    const s = createLibraryStore();
    s.add(opened("a"));
    s.add(opened("b"));
    s.view("b");
    expect(s.remove("a")).toBe(true);
    expect(s.snapshot().viewing).toBe("b");
    expect(s.remove("b")).toBe(true);
    expect(s.snapshot()).toEqual({ entries: [], viewing: null });
    expect(s.remove("b")).toBe(false);
  });
});

describe("library formatting", () => {
  it("labels kinds", () => {
    expect(kindLabel("snapdesk")).toBe("Snapdesk");
    expect(kindLabel("html")).toBe("HTML report");
    expect(kindLabel("iggy_snapshot")).toBe("Iggy snapshot");
  });

  it("lists non-zero counts, most serious first", () => {
    expect(statusChips(null)).toEqual([]);
    expect(statusChips({ pass: 38, warn: 3, fail: 1, info: 0, error: 2, skipped: 1 })).toEqual([
      { status: "fail", count: 1 },
      { status: "error", count: 2 },
      { status: "warn", count: 3 },
      { status: "pass", count: 38 },
      { status: "skipped", count: 1 },
    ]);
    expect(statusChips({ pass: 0, warn: 0, fail: 0, info: 0, error: 0, skipped: 0 })).toEqual([]);
  });

  it("formats sizes in SI units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1_500)).toBe("1.5 kB");
    expect(formatBytes(2_400_000)).toBe("2.4 MB");
    expect(formatBytes(48_000_000)).toBe("48 MB");
    expect(formatBytes(3_100_000_000)).toBe("3.1 GB");
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });

  it("formats creation times in UTC, keeps the unparsable", () => {
    expect(formatCreated("2026-06-01T10:30:00Z")).toBe("2026-06-01 10:30 UTC");
    expect(formatCreated("2026-06-01T12:30:00+02:00")).toBe("2026-06-01 10:30 UTC");
    expect(formatCreated("yesterday-ish")).toBe("yesterday-ish");
    expect(formatCreated(null)).toBeNull();
    expect(formatCreated("")).toBeNull();
  });

  it("prefers the host name over the file name", () => {
    expect(hostOrFile({ host_name: "node-1", file_name: "a.zip" })).toBe("node-1");
    expect(hostOrFile({ host_name: null, file_name: "a.zip" })).toBe("a.zip");
    expect(hostOrFile({ host_name: "  ", file_name: "a.zip" })).toBe("a.zip");
  });
});
