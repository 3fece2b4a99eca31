import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { tick } from "svelte";
import ReportViewer from "./ReportViewer.svelte";
import { fakeSummary } from "../backend";
import type { OpenedReport } from "../bindings/OpenedReport";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const opened: OpenedReport = {
  token: "t1",
  url: "report://localhost/t1/",
  iggy_url: "report://localhost/t1/iggy-data/",
  summary: fakeSummary("/home/me/snapshot-20260601-103000-node-1.zip"),
  checks: [],
  entry_id: "7",
};

function setup(props: Partial<{ opened: OpenedReport; loadTimeoutMs: number }> = {}) {
  const onback = vi.fn();
  render(ReportViewer, { props: { opened, onback, ...props } });
  const root = screen.getByTestId("report-viewer");
  const frame = screen.getByTestId("report-frame") as HTMLIFrameElement;
  return { onback, root, frame };
}

function post(data: unknown, source: MessageEventSource | null) {
  window.dispatchEvent(new MessageEvent("message", { data, source, origin: "null" }));
}

describe("ReportViewer", () => {
  it("sandboxes the frame: scripts only, no referrer", () => {
    const { frame } = setup();
    expect(frame.getAttribute("sandbox")).toBe("allow-scripts");
    expect(frame.getAttribute("src")).toBe("report://localhost/t1/");
    expect(frame.getAttribute("referrerpolicy")).toBe("no-referrer");
    expect(frame.getAttribute("title")).toBe(`Report: ${opened.summary.title}`);
    expect(frame.hasAttribute("allow")).toBe(false);
  });

  it("shows the summary in the header and focuses Back", () => {
    setup();
    expect(screen.getByTestId("viewer-title").textContent).toBe(opened.summary.title);
    const meta = screen.getByTestId("viewer-meta").textContent ?? "";
    expect(meta).toContain("iggy-prod-node-1");
    expect(meta).toContain("2026-06-01 10:30 UTC");
    expect(screen.getByTestId("viewer-kind").textContent).toContain("Snapdesk");
    expect(screen.getByTestId("count-fail").textContent).toContain("1 fail");
    expect(document.activeElement).toBe(screen.getByTestId("viewer-back"));
  });

  it("is loading until the frame fires load", async () => {
    const { root, frame } = setup();
    expect(screen.getByTestId("viewer-loading").textContent).toContain("Loading report…");
    expect(root.dataset.ready).toBeUndefined();
    await fireEvent.load(frame);
    expect(root.dataset.ready).toBe("true");
    expect(screen.queryByTestId("viewer-loading")).toBeNull();
  });

  it("counts in the header come from the Rust side, and a message from the frame changes nothing", async () => {
    const { root, frame } = setup();
    // 38 + 3 + 1 + 6 + 0 + 2 checks in the fake summary.
    expect(screen.getByTestId("viewer-checks").textContent).toBe("50 checks");
    post({ type: "snapdesk-report-ready", checks: 99 }, frame.contentWindow);
    post({ type: "snapdesk-report-ready", checks: 99 }, window);
    await tick();
    expect(screen.getByTestId("viewer-checks").textContent).toBe("50 checks");
    expect(root.dataset.ready).toBeUndefined();
  });

  it("labels the archive's claims as claims and shows integrity and notes", () => {
    setup();
    expect(screen.getByTestId("redacted").textContent).toContain("redacted (claimed)");
    expect(screen.getByTestId("redacted").getAttribute("title")).toContain("did not verify");
    expect(screen.getByTestId("viewer-integrity").textContent).toContain("verified");
    expect(screen.queryByTestId("viewer-notes")).toBeNull();
  });

  it("warns loudly when not redacted, when modified, and when totals differ", () => {
    const summary = {
      ...fakeSummary("/home/me/unredacted-tampered-node-2.zip"),
      claimed_counts: { pass: 99, warn: 0, fail: 0, info: 0, error: 0, skipped: 0 },
    };
    setup({ opened: { ...opened, summary } });
    expect(screen.getByTestId("not-redacted").textContent).toContain("NOT REDACTED: contains secrets");
    const integrity = screen.getByTestId("viewer-integrity");
    expect(integrity.textContent).toContain("modified after collection");
    expect(integrity.getAttribute("title")).toContain("report.html");
    expect(screen.getByTestId("counts-differ").textContent).toContain("manifest totals differ");
  });

  it("switches between the report and the Iggy data page in the same sandboxed frame", async () => {
    const { frame } = setup();
    const report = screen.getByTestId("viewer-tab-report");
    const iggy = screen.getByTestId("viewer-tab-iggy");
    expect(report.getAttribute("aria-selected")).toBe("true");
    await fireEvent.click(iggy);
    const now = screen.getByTestId("report-frame") as HTMLIFrameElement;
    expect(now.getAttribute("src")).toBe("report://localhost/t1/iggy-data/");
    expect(now.getAttribute("sandbox")).toBe("allow-scripts");
    expect(iggy.getAttribute("aria-selected")).toBe("true");
    expect(screen.getByTestId("viewer-loading")).toBeTruthy();
    await fireEvent.click(report);
    expect((screen.getByTestId("report-frame") as HTMLIFrameElement).getAttribute("src")).toBe(
      "report://localhost/t1/",
    );
    void frame;
  });

  it("has no tabs when the archive carries no Iggy data", () => {
    setup({ opened: { ...opened, iggy_url: null } });
    expect(screen.queryByTestId("viewer-tab-iggy")).toBeNull();
  });

  it("lists what was cut while opening", () => {
    setup({ opened: { ...opened, summary: fakeSummary("/home/me/iggy-snapshot.zip") } });
    expect(screen.getByTestId("viewer-notes").textContent).toContain("showing the last 1.0 MiB");
  });

  it("goes back on the Back button and on Escape", async () => {
    const { onback } = setup();
    await fireEvent.click(screen.getByTestId("viewer-back"));
    expect(onback).toHaveBeenCalledTimes(1);
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onback).toHaveBeenCalledTimes(2);
    await fireEvent.keyDown(window, { key: "Enter" });
    expect(onback).toHaveBeenCalledTimes(2);
  });

  it("ignores Escape while the frame has focus", async () => {
    const { onback, frame } = setup();
    frame.tabIndex = 0;
    frame.focus();
    expect(document.activeElement).toBe(frame);
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onback).not.toHaveBeenCalled();
  });

  it("shows an error when nothing loads in time, and reloads", async () => {
    vi.useFakeTimers();
    const { root, onback } = setup({ loadTimeoutMs: 15_000 });
    await vi.advanceTimersByTimeAsync(14_999);
    expect(screen.queryByTestId("viewer-error")).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    const error = screen.getByTestId("viewer-error");
    expect(error.textContent).toContain("did not load");
    expect(error.textContent).toContain("15 s");
    expect(root.dataset.state).toBe("timeout");

    await fireEvent.click(screen.getByTestId("viewer-reload"));
    expect(screen.getByTestId("viewer-loading")).toBeTruthy();
    const frame = screen.getByTestId("report-frame");
    await fireEvent.load(frame);
    expect(root.dataset.ready).toBe("true");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(screen.queryByTestId("viewer-error")).toBeNull();

    await fireEvent.click(screen.getByTestId("viewer-back"));
    expect(onback).toHaveBeenCalled();
  });
});

/** The report with `n` passing checks, each with a place in the report. */
function withManyChecks(n: number): OpenedReport {
  return {
    ...opened,
    checks: Array.from({ length: n }, (_, i) => ({
      id: `kernel.c${i}`,
      category: "kernel",
      title: `Check ${i}`,
      status: "pass" as const,
      summary: "",
      anchor: `check-kernel.c${i}`,
    })),
  };
}

describe("checks beside the report", () => {
  const withChecks: OpenedReport = {
    ...opened,
    checks: [
      { id: "certificates.expiry", category: "certificates", title: "TLS certificate expiry", status: "fail", summary: "expires in 6 days", anchor: "check-certificates.expiry" },
      { id: "kernel.swappiness", category: "kernel", title: "vm.swappiness", status: "warn", summary: "60", anchor: "check-kernel.swappiness" },
      { id: "storage.free", category: "storage", title: "Free space", status: "pass", summary: "81 %", anchor: null },
    ],
  };

  it("lists the checks with totals and the manifest, and a click jumps the frame to the check", async () => {
    setup({ opened: withChecks });
    const items = screen.getAllByTestId("check-item");
    expect(items.map((i) => i.dataset.check)).toEqual(["certificates.expiry", "kernel.swappiness", "storage.free"]);
    expect(screen.getByTestId("check-total-fail").textContent).toContain("1 fail");
    expect(screen.getByTestId("manifest-facts").textContent).toContain("snapdesk-collector 0.1.0");
    await fireEvent.click(items[1]);
    const frame = screen.getByTestId("report-frame") as HTMLIFrameElement;
    expect(frame.getAttribute("src")).toBe("report://localhost/t1/#check-kernel.swappiness");
    // A check the report has no place for cannot be jumped to.
    expect(items[2].getAttribute("aria-disabled")).toBe("true");
    await fireEvent.click(items[2]);
    expect(frame.getAttribute("src")).toBe("report://localhost/t1/#check-kernel.swappiness");
    // ...yet the keys walk through it: ArrowUp from it reaches the row above.
    items[2].focus();
    await fireEvent.keyDown(items[2], { key: "ArrowUp" });
    await tick();
    expect((document.activeElement as HTMLElement).dataset.check).toBe("kernel.swappiness");
  });

  it("draws only the rows in view of a long list, and the keys reach every check", async () => {
    const many = withManyChecks(1200);
    setup({ opened: many });
    const items = screen.getAllByTestId("check-item");
    expect(items.length).toBeGreaterThan(10);
    expect(items.length).toBeLessThan(40);
    expect(screen.getByText("1200")).toBeTruthy();
    // One row is reached by Tab; End goes to the last check, drawn and focused.
    expect(items.filter((i) => i.tabIndex === 0).map((i) => i.dataset.check)).toEqual(["kernel.c0"]);
    await fireEvent.keyDown(items[0], { key: "End" });
    await tick();
    expect((document.activeElement as HTMLElement).dataset.check).toBe("kernel.c1199");
    await fireEvent.keyDown(document.activeElement!, { key: "ArrowUp" });
    await tick();
    expect((document.activeElement as HTMLElement).dataset.check).toBe("kernel.c1198");
    // Scrolled back to the top by the wheel: Tab still reaches the list, at its first row.
    const viewport = screen.getByTestId("check-list");
    viewport.scrollTop = 0;
    await fireEvent.scroll(viewport);
    await tick();
    const tabbable = screen.getAllByTestId("check-item").filter((i) => i.tabIndex === 0);
    expect(tabbable.map((i) => i.dataset.check)).toEqual(["kernel.c0"]);
    // A filter reaches every check, and starts again at the top.
    await fireEvent.input(screen.getByTestId("check-filter"), { target: { value: "Check 1199" } });
    expect(screen.getAllByTestId("check-item").map((i) => i.dataset.check)).toEqual(["kernel.c1199"]);
  });

  it("scrolls the check it was opened at into view", () => {
    const many = withManyChecks(500);
    render(ReportViewer, { props: { opened: many, onback: () => {}, focusCheck: "kernel.c400" } });
    const row = screen.getAllByTestId("check-item").find((i) => i.dataset.check === "kernel.c400");
    expect(row?.classList.contains("current")).toBe(true);
    expect(row?.tabIndex).toBe(0);
  });

  it("filters by status and text, and starts at a check when asked", async () => {
    render(ReportViewer, { props: { opened: withChecks, onback: () => {}, focusCheck: "certificates.expiry" } });
    const frame = screen.getByTestId("report-frame") as HTMLIFrameElement;
    expect(frame.getAttribute("src")).toBe("report://localhost/t1/#check-certificates.expiry");
    await fireEvent.click(screen.getByTestId("check-total-warn"));
    expect(screen.getAllByTestId("check-item").map((i) => i.dataset.check)).toEqual(["kernel.swappiness"]);
    await fireEvent.click(screen.getByTestId("check-total-warn"));
    await fireEvent.input(screen.getByTestId("check-filter"), { target: { value: "free" } });
    expect(screen.getAllByTestId("check-item").map((i) => i.dataset.check)).toEqual(["storage.free"]);
  });
});

describe("links from the report", () => {
  it("only a link message from its own frame becomes a link request", async () => {
    const { linkRequests } = await import("../opening");
    const { get } = await import("svelte/store");
    linkRequests.set(null);
    setup();
    const frame = screen.getByTestId("report-frame") as HTMLIFrameElement;
    const data = { type: "snapdesk-link", url: "https://docs.example.com/kb/42" };
    window.dispatchEvent(new MessageEvent("message", { data, source: window }));
    expect(get(linkRequests)).toBeNull();
    window.dispatchEvent(new MessageEvent("message", { data, source: frame.contentWindow }));
    expect(get(linkRequests)).toBe("https://docs.example.com/kb/42");
    linkRequests.set(null);
  });
});

describe("the archive's files", () => {
  it("lists the files as a tree with sizes, shows one in the frame and exports it", async () => {
    const { createFakeBackend } = await import("../backend");
    const backend = createFakeBackend();
    const real = await backend.openArchive("/home/me/snapshot-20260601-103000-node-1.zip");
    render(ReportViewer, { props: { opened: real, onback: () => {}, backend } });
    await fireEvent.click(screen.getByTestId("viewer-tab-files"));
    const items = await screen.findAllByTestId("file-item");
    const paths = items.map((i) => i.dataset.path);
    expect(paths).toContain("iggy-data.zip/state/metadata.json");
    expect(screen.getByTestId("file-tree").textContent).toContain("streams/");
    expect(screen.getByTestId("files-placeholder")).toBeTruthy();
    await fireEvent.click(items.find((i) => i.dataset.path === "manifest.json")!);
    await waitFor(() =>
      expect((screen.getByTestId("report-frame") as HTMLIFrameElement).getAttribute("src")).toContain("manifest.json"),
    );
    await fireEvent.click(screen.getByTestId("file-export"));
    expect((await screen.findByTestId("file-exported")).textContent).toContain("/home/dev/manifest.json");
    await fireEvent.input(screen.getByTestId("file-filter"), { target: { value: "metadata" } });
    expect(screen.getAllByTestId("file-item").map((i) => i.dataset.path)).toEqual(["iggy-data.zip/state/metadata.json"]);
  });
});
