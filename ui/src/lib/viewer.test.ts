import { describe, expect, it } from "vitest";
import { LOAD_TIMEOUT_MS, integrityLabel, themeMessage, totalChecks } from "./viewer";
import { fakeSummary } from "./backend";

describe("viewer logic", () => {
  it("tells the frame the app's theme: light, dark, or none to follow the system", () => {
    const root = document.createElement("html");
    expect(themeMessage(root)).toEqual({ type: "snapdesk-theme", theme: null });
    root.dataset.theme = "dark";
    expect(themeMessage(root)).toEqual({ type: "snapdesk-theme", theme: "dark" });
    root.dataset.theme = "light";
    expect(themeMessage(root)).toEqual({ type: "snapdesk-theme", theme: "light" });
    root.dataset.theme = "<script>";
    expect(themeMessage(root)).toEqual({ type: "snapdesk-theme", theme: null });
  });

  it("gives the frame 15 s to load", () => {
    expect(LOAD_TIMEOUT_MS).toBe(15_000);
  });

  it("totals the counts Snapdesk made, or says there are none", () => {
    expect(totalChecks({ pass: 1, warn: 2, fail: 3, info: 4, error: 5, skipped: 6 })).toBe(21);
    expect(totalChecks(null)).toBeNull();
  });

  it("labels integrity: verified, modified with the entries named, or unverified", () => {
    const s = fakeSummary("/x/snapshot-node-1.zip");
    expect(integrityLabel(s)).toMatchObject({ tone: "pass", text: "verified" });
    const bad = {
      ...s,
      integrity: { state: "mismatch" as const, mismatched: ["report.html"], missing: [], unlisted: ["evil.js"] },
    };
    const label = integrityLabel(bad);
    expect(label.tone).toBe("fail");
    expect(label.text).toBe("modified after collection");
    expect(label.title).toContain("report.html");
    expect(label.title).toContain("evil.js");
    const foreign = fakeSummary("/x/iggy-snapshot.zip");
    expect(integrityLabel(foreign)).toMatchObject({ tone: "muted", text: "unverified" });
  });
});
