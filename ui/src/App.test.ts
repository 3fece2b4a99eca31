import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { tick } from "svelte";
import App from "./App.svelte";
import { FAKE_APP_INFO, createFakeBackend } from "./lib/backend";
import { createJobsStore } from "./lib/jobs";
import { createLibraryStore } from "./lib/library";

afterEach(() => cleanup());

function setup(opts: Parameters<typeof createFakeBackend>[0] = {}, platform = "Linux x86_64") {
  const backend = createFakeBackend(opts);
  const jobs = createJobsStore();
  const library = createLibraryStore();
  const r = render(App, { props: { backend, jobs, library, platform } });
  return { ...r, backend, jobs, library, root: screen.getByTestId("app-root") };
}

describe("App shell", () => {
  it("starts on Deployments with an honest empty state", async () => {
    const { root } = setup();
    expect(root.dataset.activeSection).toBe("deployments");
    const section = screen.getByTestId("section-deployments");
    await screen.findByTestId("deployments-first-run");
    expect(section.textContent).toContain("No connection yet");
    expect(section.textContent).toContain("snapdesk context add");
    expect(section.textContent).toContain("OS keyring");
    expect(screen.getByTestId("nav-deployments").getAttribute("aria-selected")).toBe("true");
  });

  it("goes from the first run's 'Add a connection' to Settings with the form open", async () => {
    const { root } = setup();
    await fireEvent.click(await screen.findByRole("button", { name: "Add a connection" }));
    expect(root.dataset.activeSection).toBe("settings");
    expect(await screen.findByTestId("connection-form")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Add a connection" })).toBeTruthy();
  });

  it("opens a downloaded node of the demo in the Library's viewer", async () => {
    const { root } = setup({ remote: { processingMs: 0 } });
    await fireEvent.click(await screen.findByRole("button", { name: "Try the demo" }));
    // The demo's newest snapshot is expanded; one of its nodes is in the library.
    const open = await screen.findAllByRole("button", { name: "Open" });
    await fireEvent.click(open[0]);
    await waitFor(() => expect(root.dataset.activeSection).toBe("library"));
    expect(await screen.findByTestId("report-viewer")).toBeTruthy();
  });

  it("has the four nav items with shortcuts", () => {
    setup();
    for (const [i, id] of ["deployments", "library", "collect", "settings"].entries()) {
      const tab = screen.getByTestId(`nav-${id}`);
      expect(tab.getAttribute("role")).toBe("tab");
      expect(tab.textContent).toContain(`Ctrl ${i + 1}`);
    }
  });

  it("switches section on click", async () => {
    const { root } = setup();
    await fireEvent.click(screen.getByTestId("nav-library"));
    expect(root.dataset.activeSection).toBe("library");
    await waitFor(() =>
      expect(screen.getByTestId("section-library").textContent).toContain("Library is empty: open a snapshot ZIP"),
    );
    expect(screen.queryByTestId("section-deployments")).toBeNull();
    await fireEvent.click(screen.getByTestId("nav-collect"));
    expect(screen.getByTestId("section-collect").textContent).toContain("Collect snapshot");
  });

  it("switches section with Ctrl+1..4, and Cmd on macOS", async () => {
    const { root } = setup();
    await fireEvent.keyDown(window, { key: "4", code: "Digit4", ctrlKey: true });
    expect(root.dataset.activeSection).toBe("settings");
    await fireEvent.keyDown(window, { key: "2", code: "Digit2", ctrlKey: true });
    expect(root.dataset.activeSection).toBe("library");
    await fireEvent.keyDown(window, { key: "3", code: "Digit3" });
    expect(root.dataset.activeSection).toBe("library");
    cleanup();

    const mac = setup({}, "MacIntel");
    expect(screen.getByTestId("nav-collect").textContent).toContain("⌘3");
    await fireEvent.keyDown(window, { key: "3", code: "Digit3", metaKey: true });
    expect(mac.root.dataset.activeSection).toBe("collect");
  });

  it("moves focus with arrows/Home/End (roving tabindex) and activates with Enter/Space", async () => {
    const { root } = setup();
    const tab = (id: string) => screen.getByTestId(`nav-${id}`);
    expect(tab("deployments").tabIndex).toBe(0);
    expect(tab("library").tabIndex).toBe(-1);

    tab("deployments").focus();
    await fireEvent.keyDown(tab("deployments"), { key: "ArrowDown" });
    await tick();
    expect(document.activeElement).toBe(tab("library"));
    expect(tab("library").tabIndex).toBe(0);
    expect(tab("deployments").tabIndex).toBe(-1);
    // Moving focus does not switch the section by itself.
    expect(root.dataset.activeSection).toBe("deployments");

    await fireEvent.keyDown(tab("library"), { key: "End" });
    await tick();
    expect(document.activeElement).toBe(tab("settings"));
    await fireEvent.keyDown(tab("settings"), { key: "ArrowDown" });
    await tick();
    expect(document.activeElement).toBe(tab("deployments"));
    await fireEvent.keyDown(tab("deployments"), { key: "ArrowUp" });
    await tick();
    expect(document.activeElement).toBe(tab("settings"));

    await fireEvent.keyDown(tab("settings"), { key: "Enter" });
    expect(root.dataset.activeSection).toBe("settings");

    await fireEvent.keyDown(tab("settings"), { key: "Home" });
    await tick();
    await fireEvent.keyDown(tab("deployments"), { key: " " });
    expect(root.dataset.activeSection).toBe("deployments");
  });

  it("has a skip link to the main content", () => {
    setup();
    const link = screen.getByText("Skip to main content");
    expect(link.getAttribute("href")).toBe("#main");
    expect(document.getElementById("main")).not.toBeNull();
  });
});

describe("Settings", () => {
  it("shows loading, then version, platform and directories", async () => {
    const { backend } = setup({ delayMs: 20 });
    await fireEvent.click(screen.getByTestId("nav-settings"));
    expect(screen.getByTestId("settings-loading")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("settings-version").textContent).toBe(FAKE_APP_INFO.version));
    expect(screen.getByTestId("settings-data-dir").textContent).toBe(FAKE_APP_INFO.paths.data_dir);
    expect(screen.getByTestId("settings-platform").textContent).toContain("Linux");
    expect(screen.getByTestId("settings-platform").textContent).toContain("x86_64");
    const text = screen.getByTestId("section-settings").textContent ?? "";
    for (const p of Object.values(FAKE_APP_INFO.paths)) expect(text).toContain(p);
    expect(screen.queryByTestId("settings-home-overridden")).toBeNull();
    expect(backend.calls.filter((c) => c !== "subscribe" && c !== "connectionsList")).toEqual(["appInfo"]);
  });

  it("notes an overridden home", async () => {
    setup({ appInfo: { ...FAKE_APP_INFO, home_overridden: true } });
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const note = await screen.findByTestId("settings-home-overridden");
    expect(note.textContent).toContain("SNAPDESK_HOME");
  });

  it("renders the AppError code, message and hint, and retries", async () => {
    const { backend } = setup({
      failures: { appInfo: { code: "config", message: "config.toml is invalid", hint: "Fix the file.", details: null } },
    });
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const alert = await screen.findByTestId("settings-error");
    expect(alert.getAttribute("role")).toBe("alert");
    expect(screen.getByTestId("error-code").textContent).toBe("config");
    expect(screen.getByTestId("error-message").textContent).toBe("config.toml is invalid");
    expect(screen.getByTestId("error-hint").textContent).toBe("Fix the file.");

    backend.fail("appInfo", null);
    await fireEvent.click(screen.getByRole("button", { name: /try again/i }));
    await waitFor(() => expect(screen.getByTestId("settings-version").textContent).toBe(FAKE_APP_INFO.version));
    expect(backend.calls.filter((c) => c !== "subscribe" && c !== "connectionsList")).toEqual(["appInfo", "appInfo"]);
  });
});

describe("Status area", () => {
  it("says when idle and lists running jobs with progress", async () => {
    const { jobs } = setup();
    const area = screen.getByTestId("status-area");
    expect(area.textContent).toContain("No background jobs");

    const id = jobs.add({ label: "Downloading snapshot", detail: "node-2", progress: 0.25 });
    await tick();
    expect(area.textContent).not.toContain("No background jobs");
    expect(area.textContent).toContain("Downloading snapshot");
    const bar = screen.getByRole("progressbar", { name: "Downloading snapshot" });
    expect(bar.getAttribute("aria-valuenow")).toBe("25");
    expect(area.textContent).toContain("25%");

    jobs.update(id, { progress: 0.8 });
    await tick();
    expect(bar.getAttribute("aria-valuenow")).toBe("80");

    jobs.finish(id);
    await tick();
    expect(area.textContent).toContain("No background jobs");
  });

  it("offers Cancel for a job that can be cancelled", async () => {
    const { jobs } = setup();
    const stop = vi.fn();
    jobs.add({ label: "Downloading snapshot", cancel: stop });
    jobs.add({ label: "Rendering" });
    await tick();
    const cancels = screen.getAllByRole("button", { name: "Cancel" });
    expect(cancels).toHaveLength(1);
    expect(cancels[0].closest("[data-testid^=job-]")?.textContent).toContain("Downloading snapshot");
    await fireEvent.click(cancels[0]);
    expect(stop).toHaveBeenCalledOnce();
  });

  it("collapses more than three running jobs", async () => {
    const { jobs } = setup();
    for (const l of ["a", "b", "c", "d", "e"]) jobs.add({ label: `job ${l}` });
    await tick();
    const area = screen.getByTestId("status-area");
    expect(area.textContent).toContain("+2 more");
    expect(screen.getAllByRole("progressbar")).toHaveLength(3);
  });
});

describe("Library", () => {
  const PATH = "/home/me/snapshot-20260601-103000-node-1.zip";

  async function toLibrary(opts: Parameters<typeof createFakeBackend>[0] = {}) {
    const r = setup(opts);
    await fireEvent.click(screen.getByTestId("nav-library"));
    return r;
  }

  it("shows the empty state with an open form", async () => {
    await toLibrary();
    await screen.findByText(/Library is empty/);
    const section = screen.getByTestId("section-library");
    expect(section.textContent).toContain("Library is empty");
    const input = screen.getByLabelText("Snapshot ZIP path") as HTMLInputElement;
    expect(input).toBe(screen.getByTestId("open-path"));
    expect(input.placeholder).toMatch(/\.zip$/);
    expect((screen.getByTestId("open-submit") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByTestId("library-list")).toBeNull();
  });

  it("opens a path on Enter, shows it in the viewer, and lists it after Back", async () => {
    const { backend, library } = await toLibrary({ delayMs: 20 });
    const input = (await screen.findByTestId("open-path")) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: `  ${PATH} ` } });
    const submit = screen.getByTestId("open-submit") as HTMLButtonElement;
    expect(submit.disabled).toBe(false);
    await fireEvent.submit(input.form!);
    expect(submit.disabled).toBe(true);
    expect(submit.textContent).toContain("Opening…");
    expect(input.readOnly).toBe(true);

    const viewer = await screen.findByTestId("report-viewer");
    expect(backend.calls.filter((c) => !["subscribe", "libraryBrowse", "connectionsList"].includes(c))).toEqual(["openArchive"]);
    expect(screen.getByTestId("report-frame").getAttribute("sandbox")).toBe("allow-scripts");
    expect(viewer.textContent).toContain("iggy-prod-node-1");
    expect(library.snapshot().entries).toHaveLength(1);

    await fireEvent.click(screen.getByTestId("viewer-back"));
    await tick();
    expect(screen.queryByTestId("report-viewer")).toBeNull();
    // The opened file is now a library entry, listed from the catalog.
    await waitFor(() => expect(screen.getAllByTestId("library-row")).toHaveLength(1));
    const rows = screen.getAllByTestId("library-row");
    expect(rows).toHaveLength(1);
    expect(rows[0].textContent).toContain("Snapshot of iggy-prod-node-1");
    // Focus returns to the row that was open; the form is empty again.
    await waitFor(() => expect(document.activeElement).toBe(rows[0].querySelector("[data-testid=library-open]")));
    expect(document.activeElement).toBe(rows[0].querySelector("[data-testid=library-open]"));
    expect((screen.getByTestId("open-path") as HTMLInputElement).value).toBe("");
  });

  it("cancels a slow open: nothing added, no error, the path kept", async () => {
    const { backend, library } = setup({ delayMs: 10_000 });
    await fireEvent.click(screen.getByTestId("nav-library"));
    const input = (await screen.findByTestId("open-path")) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "/home/me/huge-node-1.zip" } });
    await fireEvent.submit(input.form!);
    const cancel = await screen.findByTestId("open-cancel");
    expect(cancel.textContent).toContain("Cancel");
    await fireEvent.click(cancel);
    await screen.findByTestId("open-cancelled");
    expect(screen.queryByTestId("open-error")).toBeNull();
    expect(screen.queryByTestId("open-cancel")).toBeNull();
    expect(library.snapshot().entries).toHaveLength(0);
    expect(input.value).toBe("/home/me/huge-node-1.zip");
    expect(backend.calls.filter((c) => !["subscribe", "libraryBrowse", "connectionsList"].includes(c))).toEqual(["openArchive", "cancelOpen"]);
  });

  it("shows the AppError inline and keeps the typed path", async () => {
    await toLibrary();
    const input = (await screen.findByTestId("open-path")) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "/home/me/missing.zip" } });
    await fireEvent.submit(input.form!);
    const error = await screen.findByTestId("open-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(screen.getByTestId("open-error-code").textContent).toBe("not_found");
    expect(screen.getByTestId("open-error-message").textContent).toContain("/home/me/missing.zip");
    expect(screen.getByTestId("open-error-hint").textContent).toMatch(/snapshot ZIP/);
    expect(input.value).toBe("/home/me/missing.zip");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(screen.queryByTestId("report-viewer")).toBeNull();

    await fireEvent.input(input, { target: { value: "/home/me/bad.zip" } });
    await fireEvent.submit(input.form!);
    await waitFor(() => expect(screen.getByTestId("open-error-code").textContent).toBe("archive"));
  });
});
