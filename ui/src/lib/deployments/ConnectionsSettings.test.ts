import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import ConnectionsSettings from "./ConnectionsSettings.svelte";
import { createFakeBackend } from "../backend";
import type { FakeRemoteOptions } from "../backend/fake-remote";
import { crossingReads } from "./crossing-reads";

afterEach(() => cleanup());

const SECRET = "ld_live_5up3r_s3cr3t_manage_key";

function setup(remote: FakeRemoteOptions = {}, props: { adding?: boolean } = {}) {
  const backend = createFakeBackend({ remote });
  const onaddshown = vi.fn();
  const r = render(ConnectionsSettings, { props: { backend, onaddshown, ...props } });
  return { ...r, backend, onaddshown };
}

/** Holds every `connectionsList` answer (each computed when asked) until the test releases it. */
const rows = () => screen.queryAllByTestId("connection-row");
const row = (name: string) => rows().find((r) => r.dataset.name === name)!;

async function fill(fields: { name?: string; url?: string; deployments?: string; key?: string; label?: string }) {
  const form = screen.getByTestId("connection-form");
  const set = (label: RegExp, value: string) => fireEvent.input(within(form).getByLabelText(label), { target: { value } });
  if (fields.name !== undefined) await set(/^Name/, fields.name);
  if (fields.label !== undefined) await set(/^Label/, fields.label);
  if (fields.url !== undefined) await set(/^Supervisor URL/, fields.url);
  if (fields.deployments !== undefined) await set(/^Deployments/, fields.deployments);
  if (fields.key !== undefined) await set(/^API key/, fields.key);
}

/** The secret anywhere on the page: in text, in an attribute, or in a field's value. */
function secretShown(): boolean {
  if (document.body.innerHTML.includes(SECRET)) return true;
  return [...document.querySelectorAll("input, textarea")].some((el) => (el as HTMLInputElement).value.includes(SECRET));
}

describe("Settings → Connections", () => {
  it("adds a connection; the key goes to the keyring and is never shown again", async () => {
    const { backend } = setup();
    expect(await screen.findByTestId("connections-empty")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Add connection" }));
    const key = screen.getByLabelText(/^API key/) as HTMLInputElement;
    expect(key.type).toBe("password");
    await fill({
      name: "acme",
      label: "ACME production",
      url: "https://supervisor.acme.example",
      deployments: "611298765432109056=events-prod, 611298765432109057\n",
      key: SECRET,
    });
    const save = vi.spyOn(backend, "connectionSave");
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(save.mock.calls[0][0]).toEqual({
      name: "acme",
      previous: null,
      label: "ACME production",
      url: "https://supervisor.acme.example",
      deployments: ["611298765432109056=events-prod", "611298765432109057"],
      key: SECRET,
      session_only: false,
    });
    expect(backend.remote.storedKey("acme")).toBe(SECRET);

    const r = row("acme");
    expect(within(r).getByTestId("connection-key").textContent).toContain("Stored in keyring");
    expect(within(r).getByTestId("connection-url").textContent).toBe("https://supervisor.acme.example");
    expect(within(r).getByTestId("connection-deployments").textContent).toMatch(/events-prod 611298765432109056, 611298765432109057/);
    expect(screen.getByTestId("connections-notice").textContent).toContain("Added acme");
    expect(secretShown()).toBe(false);

    // Editing never fills the key back in.
    await fireEvent.click(within(r).getByRole("button", { name: "Edit" }));
    const again = screen.getByLabelText(/^API key/) as HTMLInputElement;
    expect(again.value).toBe("");
    expect(again.placeholder).toBe("Leave empty to keep the stored key");
    expect(secretShown()).toBe(false);
  });

  it("edits without a key and keeps the stored one", async () => {
    const { backend } = setup();
    await fireEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    await fill({ name: "acme", url: "https://supervisor.acme.example", deployments: "611298765432109056", key: SECRET });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(rows()).toHaveLength(1));

    await fireEvent.click(within(row("acme")).getByRole("button", { name: "Edit" }));
    expect((screen.getByLabelText(/^Deployments/) as HTMLTextAreaElement).value).toBe("611298765432109056");
    await fill({ name: "acme-prod", deployments: "611298765432109056=events-prod" });
    const save = vi.spyOn(backend, "connectionSave");
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(row("acme-prod")).toBeTruthy());
    expect(save.mock.calls[0][0]).toMatchObject({ name: "acme-prod", previous: "acme", key: null, session_only: false });
    expect(backend.remote.storedKey("acme-prod")).toBe(SECRET);
    expect(within(row("acme-prod")).getByTestId("connection-key").textContent).toContain("Stored in keyring");
    expect(rows()).toHaveLength(1);
  });

  it("without a keyring says so and keeps the key for this session only", async () => {
    const message = "org.freedesktop.secrets was not provided by any .service files";
    const { backend } = setup({ keyring: { available: false, message } });
    await fireEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    expect(screen.getByTestId("keyring-unavailable").textContent).toContain(message);
    await fill({ name: "acme", url: "https://supervisor.acme.example", deployments: "611298765432109056", key: SECRET });

    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByTestId("connection-problems").textContent).toContain("Keep the key for this session only");
    expect(backend.calls).not.toContain("connectionSave");

    await fireEvent.click(screen.getByLabelText("Keep the key for this session only"));
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(within(row("acme")).getByTestId("connection-key").textContent).toContain("This session only");
    expect(screen.getByTestId("settings-keyring").textContent).toContain(message);
    expect(secretShown()).toBe(false);
  });

  it("checks the form before sending it", async () => {
    const { backend } = setup();
    await fireEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    await fill({ name: "acme", url: "supervisor.acme.example", deployments: "events-prod" });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    const problems = screen.getByTestId("connection-problems").textContent;
    expect(problems).toContain("must start with http:// or https://");
    expect(problems).toContain('"events-prod": the deployment id must be digits');
    expect(backend.calls).not.toContain("connectionSave");
  });

  it("shows a refused save with its code, message and hint", async () => {
    setup({ connections: [{ name: "acme", url: "https://a.example", deployments: [{ id: "1", name: "x" }] }] });
    await fireEvent.click(await screen.findByRole("button", { name: "Add connection" }));
    await fill({ name: "acme", url: "https://b.example", deployments: "2" });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    const error = await screen.findByTestId("connection-save-error");
    expect(within(error).getByTestId("connection-save-error-code").textContent).toBe("conflict");
    expect(within(error).getByTestId("connection-save-error-hint").textContent).toContain("Pick another name");
  });

  it("lists key states masked, and the demo with its badge", async () => {
    setup({
      connections: [
        { name: "a", url: "https://a.example", deployments: [{ id: "1", name: "x" }], key: "keyring" },
        { name: "b", url: "https://b.example", deployments: [{ id: "2", name: "y" }], key: "session" },
        { name: "c", url: "https://c.example", deployments: [{ id: "3", name: "z" }], key: "environment" },
        { name: "d", url: "https://d.example", deployments: [{ id: "4", name: "w" }], key: "missing" },
        { name: "demo", label: "Demo (local emulator)", url: "http://127.0.0.1:8787", deployments: [{ id: "5", name: "v" }], key: "session", demo: true },
      ],
    });
    await waitFor(() => expect(rows()).toHaveLength(5));
    const keys = rows().map((r) => within(r).getByTestId("connection-key").textContent?.replace(/•+/, "").trim());
    expect(keys).toEqual(["Stored in keyring", "This session only", "From LD_API_KEY", "Missing", "This session only"]);
    expect(within(row("demo")).getByTestId("connection-demo").textContent?.trim()).toBe("Demo");
    expect(row("demo").textContent).toContain("Demo (local emulator)");
    expect(within(row("a")).queryByTestId("connection-demo")).toBeNull();
  });

  it("tests whether the key can read and manage", async () => {
    setup({
      connections: [
        { name: "full", url: "https://a.example", deployments: [{ id: "1", name: "x", snapshots: 4 }] },
        { name: "ro", url: "https://b.example", deployments: [{ id: "2", name: "y" }], manage: false },
        { name: "unknown", url: "https://c.example", deployments: [{ id: "3", name: "z" }], manage: null },
        { name: "down", url: "https://d.example", deployments: [{ id: "4", name: "w" }], unreachable: true },
      ],
    });
    await waitFor(() => expect(rows()).toHaveLength(4));
    for (const name of ["full", "ro", "unknown", "down"]) {
      await fireEvent.click(within(row(name)).getByRole("button", { name: "Test" }));
    }
    await waitFor(() => expect(screen.getAllByTestId("connection-test").every((t) => !t.textContent?.includes("Testing"))).toBe(true));
    const full = within(row("full")).getByTestId("connection-test");
    expect(within(full).getByTestId("test-read").textContent).toBe("Read ✓");
    expect(within(full).getByTestId("test-manage").textContent).toBe("Manage ✓");
    expect(within(full).getByTestId("test-snapshots").textContent).toBe("4 snapshots on 1");
    expect(within(row("ro")).getByTestId("test-manage").textContent).toBe("Manage ✗");
    expect(within(row("unknown")).getByTestId("test-manage").textContent).toBe("Manage not checked");
    const down = within(row("down")).getByTestId("connection-test-error");
    expect(within(down).getByTestId("connection-test-error-code").textContent).toBe("network");
    expect(within(down).getByTestId("connection-test-error-hint").textContent).toContain("retry");
  });

  it("removes a connection after a confirmation naming it", async () => {
    const { backend } = setup({
      connections: [
        { name: "acme", url: "https://a.example", deployments: [{ id: "1", name: "x" }] },
        { name: "globex", url: "https://b.example", deployments: [{ id: "2", name: "y" }] },
      ],
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await fireEvent.click(within(row("globex")).getByRole("button", { name: "Remove" }));
    const dialog = screen.getByTestId("confirm-remove-connection");
    expect(dialog.textContent).toContain("Remove the connection globex?");
    expect(screen.getByTestId("confirm-remove-connection-text").textContent).toContain("its key is deleted from the keyring");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(rows()).toHaveLength(2);
    expect(backend.calls).not.toContain("connectionRemove");

    await fireEvent.click(within(row("globex")).getByRole("button", { name: "Remove" }));
    await fireEvent.click(within(screen.getByTestId("confirm-remove-connection")).getByRole("button", { name: "Remove" }));
    await waitFor(() => expect(rows().map((r) => r.dataset.name)).toEqual(["acme"]));
    expect(screen.getByTestId("connections-notice").textContent).toBe("Removed globex.");
  });

  it("opens the Add form when asked from the Deployments section", async () => {
    const { onaddshown } = setup({}, { adding: true });
    expect(await screen.findByTestId("connection-form")).toBeTruthy();
    expect(onaddshown).toHaveBeenCalled();
  });
});

describe("Settings → Connections: reads that cross", () => {
  it("keeps the newest list when an older read answers last", async () => {
    const { backend } = setup({ connections: [{ name: "acme", url: "https://a.example", deployments: [{ id: "1", name: "x" }] }] });
    await waitFor(() => expect(rows()).toHaveLength(1));
    // A save lists again, and so does the watcher when the contexts file changes: two reads.
    const held = await crossingReads(backend, "beta", "2");
    held[1]();
    await waitFor(() => expect(rows()).toHaveLength(2));
    // The older answer (without beta) lands last: it is dropped.
    held[0]();
    await new Promise((r) => setTimeout(r, 20));
    expect(rows().map((r) => r.dataset.name)).toEqual(["acme", "beta"]);
  });
});
