import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { tick } from "svelte";
import App from "./App.svelte";
import { FAKE_APP_INFO, createFakeBackend } from "./lib/backend";
import { createJobsStore } from "./lib/jobs";

afterEach(() => cleanup());

function setup(opts: Parameters<typeof createFakeBackend>[0] = {}, platform = "Linux x86_64") {
  const backend = createFakeBackend(opts);
  const jobs = createJobsStore();
  const r = render(App, { props: { backend, jobs, platform } });
  return { ...r, backend, jobs, root: screen.getByTestId("app-root") };
}

describe("App shell", () => {
  it("starts on Deployments with an honest empty state", () => {
    const { root } = setup();
    expect(root.dataset.activeSection).toBe("deployments");
    const section = screen.getByTestId("section-deployments");
    expect(section.textContent).toContain("No connection yet");
    expect(section.textContent).toContain("snapdesk context add");
    expect(section.textContent).toContain("OS keyring");
    expect(screen.getByTestId("nav-deployments").getAttribute("aria-selected")).toBe("true");
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
    expect(screen.getByTestId("section-library").textContent).toContain("Library is empty: open a snapshot ZIP");
    expect(screen.queryByTestId("section-deployments")).toBeNull();
    await fireEvent.click(screen.getByTestId("nav-collect"));
    expect(screen.getByTestId("section-collect").textContent).toContain("snapdesk collect");
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
    expect(backend.calls).toEqual(["appInfo"]);
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
    expect(backend.calls).toEqual(["appInfo", "appInfo"]);
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

  it("collapses more than three running jobs", async () => {
    const { jobs } = setup();
    for (const l of ["a", "b", "c", "d", "e"]) jobs.add({ label: `job ${l}` });
    await tick();
    const area = screen.getByTestId("status-area");
    expect(area.textContent).toContain("+2 more");
    expect(screen.getAllByRole("progressbar")).toHaveLength(3);
  });
});
