import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { get } from "svelte/store";
import App from "./App.svelte";
import { createFakeBackend } from "./lib/backend";
import { createJobsStore } from "./lib/jobs";
import { createLibraryStore } from "./lib/library";
import { isLocalHost, linkRequests, openFailures } from "./lib/opening";
import { libraryVersion } from "./lib/catalog";
import { linkFromMessage } from "./lib/viewer";

afterEach(() => {
  cleanup();
  openFailures.set([]);
});

async function setup(opts: Parameters<typeof createFakeBackend>[0] = {}) {
  const backend = createFakeBackend(opts);
  const jobs = createJobsStore();
  const library = createLibraryStore();
  render(App, { props: { backend, jobs, library, platform: "Linux x86_64" } });
  await waitFor(() => expect(backend.calls).toContain("subscribe"));
  return { backend, jobs, library, root: screen.getByTestId("app-root") };
}

describe("files from outside the app", () => {
  it("files handed over (launch, second launch, drop) open in the library and the last is shown", async () => {
    const { backend, library, root } = await setup();
    backend.emit({ kind: "open_files", paths: ["/tmp/snapshot-a-node-1.zip", "/tmp/snapshot-b-node-2.zip"] });
    await waitFor(() => expect(library.snapshot().entries).toHaveLength(2));
    expect(root.dataset.activeSection).toBe("library");
    const viewing = library.snapshot().viewing;
    expect(library.find(viewing ?? "")?.summary.file_name).toBe("snapshot-b-node-2.zip");
    await waitFor(() => expect(screen.getByTestId("report-viewer")).toBeTruthy());
  });

  it("a file that cannot be opened is named with the reason and the others still open", async () => {
    const { backend, library } = await setup();
    backend.emit({ kind: "open_files", paths: ["/tmp/bad.zip", "/tmp/good-node-1.zip"] });
    await waitFor(() => expect(screen.getByTestId("open-files-error")).toBeTruthy());
    expect(screen.getByTestId("open-files-error").textContent).toContain("Could not open bad.zip");
    expect(library.snapshot().entries).toHaveLength(1);
    // Dismiss sits inside the error box, not below it.
    expect(screen.getByTestId("open-failure").contains(screen.getByTestId("open-files-dismiss"))).toBe(true);
    await fireEvent.click(screen.getByTestId("open-files-dismiss"));
    expect(screen.queryByTestId("open-files-error")).toBeNull();
  });

  it("Ctrl+O opens what the file dialog picked; a dismissed dialog does nothing", async () => {
    const { backend, library } = await setup({ picks: ["/tmp/picked-node-3.zip"] });
    await fireEvent.keyDown(window, { key: "o", ctrlKey: true });
    await waitFor(() => expect(library.snapshot().entries).toHaveLength(1));
    expect(backend.calls).toContain("pickArchives");
    cleanup();
    const empty = await setup({ picks: [] });
    await fireEvent.keyDown(window, { key: "o", ctrlKey: true });
    await waitFor(() => expect(empty.backend.calls).toContain("pickArchives"));
    expect(empty.library.snapshot().entries).toHaveLength(0);
    expect(empty.backend.calls).not.toContain("openArchive");
  });

  it("library changes from another process reach the shared store", async () => {
    const { backend } = await setup();
    const before = get(libraryVersion);
    backend.emit({ kind: "library_changed", seq: 41 });
    expect(get(libraryVersion)).toBe(before + 1);
  });
});

describe("a link a report asked for", () => {
  it("is shown in full and opens only when the person confirms", async () => {
    const { backend } = await setup();
    const url = "https://status.example.com/incident?id=42&ref=report";
    backend.emit({ kind: "link_requested", url });
    const dialog = await screen.findByTestId("link-dialog");
    expect(screen.getByTestId("link-url").textContent).toBe(url);
    expect(screen.getByTestId("link-host").textContent).toBe("status.example.com");
    // Cancel has the focus: Enter on it does not open anything.
    expect(document.activeElement).toBe(screen.getByTestId("link-cancel"));
    await fireEvent.click(screen.getByTestId("link-cancel"));
    expect(screen.queryByTestId("link-dialog")).toBeNull();
    expect(backend.calls).not.toContain("openLink");
    expect(dialog.getAttribute("role")).toBe("alertdialog");

    // Asked again within 2 s: ignored (a report cannot flood the person).
    backend.emit({ kind: "link_requested", url });
    expect(screen.queryByTestId("link-dialog")).toBeNull();
    await new Promise((r) => setTimeout(r, 2050));
    backend.emit({ kind: "link_requested", url });
    await fireEvent.click(await screen.findByTestId("link-open"));
    await waitFor(() => expect(backend.calls).toContain("openLink"));
  });

  it("warns when the address is on this machine or the local network", async () => {
    const { backend } = await setup();
    backend.emit({ kind: "link_requested", url: "http://127.0.0.1:8080/admin" });
    await screen.findByTestId("link-dialog");
    expect(screen.getByTestId("link-local").textContent).toContain("this machine");
    await fireEvent.click(screen.getByTestId("link-cancel"));
    for (const [host, local] of [
      ["localhost", true], ["report.localhost", true], ["10.1.2.3", true], ["172.20.0.1", true], ["172.32.0.1", false],
      ["192.168.1.1", true], ["[::1]", true], ["example.com", false], ["8.8.8.8", false], ["169.254.169.254", true],
    ] as const) {
      expect(isLocalHost(host), host).toBe(local);
    }
  });

  it("a link the report's frame posts is asked about; other messages and other windows are not", async () => {
    await setup();
    linkRequests.set("https://docs.example.com/kb/42?x=1");
    expect((await screen.findByTestId("link-url")).textContent).toBe("https://docs.example.com/kb/42?x=1");
    expect(linkFromMessage({ type: "snapdesk-link", url: "javascript:alert(1)" })).toBeNull();
    expect(linkFromMessage({ type: "other", url: "https://a.example/" })).toBeNull();
    expect(linkFromMessage("https://a.example/")).toBeNull();
    expect(linkFromMessage({ type: "snapdesk-link", url: "https://a.example/" })).toBe("https://a.example/");
  });

  it("a second request while one is asked is ignored, and Escape cancels", async () => {
    const { backend } = await setup();
    backend.emit({ kind: "link_requested", url: "https://a.example/" });
    backend.emit({ kind: "link_requested", url: "https://b.example/" });
    await screen.findByTestId("link-dialog");
    expect(screen.getByTestId("link-url").textContent).toBe("https://a.example/");
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("link-dialog")).toBeNull();
    expect(backend.calls).not.toContain("openLink");
  });
});

describe("Collect section", () => {
  it("runs with progress, lands in the library and opens in the viewer", async () => {
    const { backend, library, jobs, root } = await setup();
    await fireEvent.click(screen.getByTestId("nav-collect"));
    await fireEvent.click(screen.getByTestId("collect-start"));
    await waitFor(() => expect(library.snapshot().viewing).not.toBeNull());
    expect(backend.calls).toContain("collectRun");
    expect(root.dataset.activeSection).toBe("library");
    expect(jobs.snapshot()[0].status).toBe("succeeded");
  });

  it("says what turning redaction off means", async () => {
    await setup();
    await fireEvent.click(screen.getByTestId("nav-collect"));
    expect(screen.queryByTestId("collect-redact-off")).toBeNull();
    await fireEvent.click(screen.getByTestId("collect-redact"));
    expect(screen.getByTestId("collect-redact-off").textContent).toContain("NOT REDACTED");
  });

  it("cancel stops it with nothing added", async () => {
    const { library, jobs } = await setup({ delayMs: 200 });
    await fireEvent.click(screen.getByTestId("nav-collect"));
    await fireEvent.click(screen.getByTestId("collect-start"));
    await fireEvent.click(await screen.findByTestId("collect-cancel"));
    await screen.findByTestId("collect-cancelled");
    expect(library.snapshot().entries).toHaveLength(0);
    expect(jobs.snapshot()[0].status).toBe("cancelled");
  });
});

describe("connections changed by the CLI", () => {
  it("a context the CLI adds shows in Deployments without a restart", async () => {
    const { backend } = await setup();
    await fireEvent.click(screen.getByTestId("nav-deployments"));
    await waitFor(() => expect(screen.getByTestId("deployments-first-run")).toBeTruthy());
    // Behind the window's back, as `snapdesk context add` writes the file.
    await backend.connectionSave({
      name: "from-cli",
      previous: null,
      label: "",
      url: "https://supervisor.example",
      deployments: ["611298765432109056=events-prod"],
      key: "ld_key_from_cli_0123456789",
      session_only: false,
    });
    expect(screen.queryByText("events-prod")).toBeNull();
    backend.emit({ kind: "connections_changed" });
    await waitFor(() => expect(screen.getAllByText("events-prod").length).toBeGreaterThan(0));
  });
});
