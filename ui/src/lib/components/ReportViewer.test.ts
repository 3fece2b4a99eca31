import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
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
  summary: fakeSummary("/home/me/snapshot-20260601-103000-node-1.zip"),
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
    expect(screen.getByTestId("redacted").textContent).toContain("secrets redacted");
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

  it("accepts the ready message only from its own frame", async () => {
    const { root, frame } = setup();
    post({ type: "snapdesk-report-ready", checks: 42 }, window);
    await tick();
    expect(root.dataset.ready).toBeUndefined();
    post({ type: "snapdesk-report-ready", checks: "42" }, frame.contentWindow);
    await tick();
    expect(root.dataset.ready).toBeUndefined();

    post({ type: "snapdesk-report-ready", checks: 42 }, frame.contentWindow);
    await tick();
    expect(root.dataset.ready).toBe("true");
    expect(screen.getByTestId("viewer-checks").textContent).toBe("42 checks");
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
