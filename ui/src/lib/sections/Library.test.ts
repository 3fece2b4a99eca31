import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { writable } from "svelte/store";
import Library from "./Library.svelte";
import { createFakeBackend, type FakeBackend } from "../backend";
import { fakeEntry } from "../backend/fake";
import type { Entry } from "../bindings/Entry";
import { createLibraryStore } from "../library";

afterEach(() => cleanup());

const NOW = Date.parse("2026-06-30T12:00:00Z");

function setup(entries: Entry[] = [], opts: Parameters<typeof createFakeBackend>[0] = {}) {
  const backend = createFakeBackend({ entries, ...opts });
  const library = createLibraryStore();
  const changes = writable(0);
  const r = render(Library, { props: { backend, library, changes, now: NOW } });
  return { ...r, backend, library, changes };
}

const rows = () => screen.queryAllByTestId("library-row");
const row = (id: string) => rows().find((r) => r.dataset.entryId === id)!;
const ids = () => rows().map((r) => r.dataset.entryId);
const query = () => screen.getByTestId("library-query") as HTMLInputElement;
const browses = (b: FakeBackend) => b.calls.filter((c) => c === "libraryBrowse").length;

async function type(value: string) {
  await fireEvent.input(query(), { target: { value } });
}

describe("Library catalog", () => {
  it("explains an empty library and keeps the path form", async () => {
    setup();
    const empty = await screen.findByText("Library is empty: open a snapshot ZIP");
    const section = empty.closest(".empty")!;
    expect(section.textContent).toContain("Ctrl");
    expect(section.textContent).toContain("drop files on the window");
    expect(section.textContent).toContain("snapdesk library import");
    expect(screen.getByTestId("open-path")).toBeTruthy();
    expect(screen.queryByTestId("library-list")).toBeNull();
  });

  it("lists every entry with node, deployment, snapshot, counts, flags, tags, size and states", async () => {
    setup([
      fakeEntry(1, { title: "Alpha", pinned: true, tags: ["tls"], redacted: false, has_iggy: true, created_at: "2026-06-27T12:00:00Z" }),
      fakeEntry(2, { title: "Bravo", evicted_at: "2026-06-20T00:00:00Z", downloadable: true, expires_at: "2026-07-20T00:00:00Z", has_iggy: false }),
      fakeEntry(3, { title: "Charlie", expires_at: "2026-06-01T00:00:00Z", has_iggy: false }),
    ]);
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.getByTestId("library-total").textContent).toMatch(/3\s+entries/);
    // fakeEntry(n): 40 pass each, 2 fail when n % 5 === 0, warn n % 3.
    expect(screen.getByTestId("totals-pass").textContent).toContain("120 pass");
    expect(screen.getByTestId("totals-warn").textContent).toContain("3 warn");
    expect(screen.queryByTestId("totals-fail")).toBeNull();

    const a = row("1");
    expect(a.textContent).toContain("Alpha");
    expect(a.textContent).toContain("node-2");
    expect(a.textContent).toContain("iggy-prod");
    expect(a.textContent).toContain("snapshot-20260602-103001");
    expect(within(a).getByTestId("row-pinned")).toBeTruthy();
    expect(within(a).getByTestId("not-redacted").textContent).toContain("NOT REDACTED");
    expect(within(a).getByTestId("row-iggy").textContent).toContain("Iggy data");
    expect(within(a).getByTestId("row-tag").textContent?.trim()).toBe("#tls");
    expect(within(a).getByTestId("count-warn").textContent).toContain("1 warn");
    expect(within(a).getByTestId("count-pass").textContent).toContain("40 pass");
    expect(within(a).getByTestId("row-created").textContent).toMatch(/2026-06-2[67] \d\d:\d\d\s*3 d ago/);
    expect(within(a).getByTestId("library-size").textContent).toBe("1.0 MB");
    expect(within(a).getByTestId("row-pin").getAttribute("aria-label")).toBe("Unpin Alpha");
    expect(within(a).queryByTestId("row-evicted")).toBeNull();

    const b = row("2");
    expect(within(b).getByTestId("row-evicted")).toBeTruthy();
    expect(within(b).getByTestId("row-downloadable").textContent).toContain("can be downloaded again");
    expect(within(b).queryByTestId("row-expired")).toBeNull();
    expect(within(b).queryByTestId("not-redacted")).toBeNull();

    const c = row("3");
    expect(within(c).getByTestId("row-expired").textContent).toContain("server copy expired");
    expect(within(c).queryByTestId("row-evicted")).toBeNull();
  });

  it("filters with the query box, filter chips and quick filters", async () => {
    const entries = Array.from({ length: 12 }, (_, i) =>
      fakeEntry(i + 1, { tags: i < 4 ? ["tls"] : [], pinned: i % 2 === 0 }),
    );
    setup(entries);
    await waitFor(() => expect(rows()).toHaveLength(12));

    await type("tag:tls");
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(screen.getByTestId("library-total").textContent).toMatch(/4\s+entries match/);
    const chips = screen.getAllByTestId("filter-chip");
    expect(chips.map((c) => c.dataset.term)).toEqual(["tag:tls"]);

    const pinned = screen.getByTestId("quick-pinned");
    expect(pinned.getAttribute("aria-pressed")).toBe("false");
    await fireEvent.click(pinned);
    expect(query().value).toBe("tag:tls pinned:yes");
    expect(pinned.getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(rows()).toHaveLength(2));

    await fireEvent.click(screen.getByRole("button", { name: "Remove filter tag:tls" }));
    expect(query().value).toBe("pinned:yes");
    await waitFor(() => expect(rows()).toHaveLength(6));
    expect(screen.getAllByTestId("filter-chip").map((c) => c.dataset.term)).toEqual(["pinned:yes"]);

    await fireEvent.click(pinned);
    expect(query().value).toBe("");
    await waitFor(() => expect(rows()).toHaveLength(12));
    expect(screen.queryAllByTestId("filter-chip")).toHaveLength(0);
  });

  it("says when nothing matches and offers to clear the query", async () => {
    setup([fakeEntry(1), fakeEntry(2)]);
    await waitFor(() => expect(rows()).toHaveLength(2));
    await type("nothing-like-this");
    const none = await screen.findByTestId("library-no-match");
    expect(none.textContent).toContain("nothing-like-this");
    await fireEvent.click(screen.getByTestId("library-clear-query"));
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(query().value).toBe("");
  });

  it("sorts", async () => {
    setup([fakeEntry(1, { size: 5 }), fakeEntry(2, { size: 900 }), fakeEntry(3, { size: 70 })]);
    await waitFor(() => expect(rows()).toHaveLength(3));
    await fireEvent.change(screen.getByTestId("library-sort"), { target: { value: "size" } });
    await waitFor(() => expect(ids()).toEqual(["2", "3", "1"]));
  });

  it("pins, notes, tags, exports and removes through the backend, and refreshes", async () => {
    const { backend } = setup([fakeEntry(1, { title: "Alpha" }), fakeEntry(2, { title: "Bravo" })]);
    await waitFor(() => expect(rows()).toHaveLength(2));

    let before = browses(backend);
    await fireEvent.click(within(row("1")).getByTestId("row-pin"));
    await waitFor(() => expect(within(row("1")).getByTestId("row-pinned")).toBeTruthy());
    expect(backend.calls).toContain("libraryPin");
    await waitFor(() => expect(browses(backend)).toBeGreaterThan(before));

    await fireEvent.click(within(row("1")).getByTestId("row-details"));
    const pane = await screen.findByTestId("entry-pane");
    await waitFor(() => expect(within(pane).getByTestId("pane-origins").textContent).toContain("Imported from"));

    await fireEvent.click(within(pane).getByTestId("note-edit"));
    await fireEvent.input(within(pane).getByTestId("note-input"), { target: { value: "  ticket 4711  " } });
    before = browses(backend);
    await fireEvent.click(within(pane).getByTestId("note-save"));
    await waitFor(() => expect(within(pane).getByTestId("pane-note").textContent).toBe("ticket 4711"));
    expect(backend.calls).toContain("libraryNote");
    await waitFor(() => expect(row("1").textContent).toContain("ticket 4711"));
    expect(browses(backend)).toBeGreaterThan(before);

    const tagInput = within(pane).getByTestId("tag-input") as HTMLInputElement;
    await fireEvent.input(tagInput, { target: { value: "urgent, #tls" } });
    await fireEvent.submit(tagInput.form!);
    await waitFor(() => expect(within(pane).getAllByTestId("pane-tag").map((t) => t.textContent?.replace("×", ""))).toEqual(["#tls", "#urgent"]));
    await waitFor(() => expect(within(row("1")).getAllByTestId("row-tag")).toHaveLength(2));
    await fireEvent.click(within(pane).getByRole("button", { name: "Remove tag urgent" }));
    await waitFor(() => expect(within(pane).getAllByTestId("pane-tag")).toHaveLength(1));

    await fireEvent.click(within(pane).getByTestId("pane-export"));
    const saved = await within(pane).findByTestId("export-result");
    expect(saved.textContent).toMatch(/^Saved to \/home\/dev\/snapshot-20260602-103001-node-2\.zip$/);

    await fireEvent.click(within(pane).getByTestId("pane-remove"));
    const confirm = screen.getByTestId("confirm-remove");
    expect(confirm.getAttribute("role")).toBe("alertdialog");
    expect(confirm.textContent).toContain("Alpha");
    expect(confirm.textContent).toContain("node-2");
    expect(confirm.textContent).toContain("1.0 MB");
    expect(confirm.textContent).toContain("note");
    expect(confirm.textContent).toContain("pinned");
    expect(backend.calls).not.toContain("libraryRemove");
    await fireEvent.click(screen.getByTestId("confirm-remove-ok"));
    await waitFor(() => expect(ids()).toEqual(["2"]));
    expect(backend.calls).toContain("libraryRemove");
    expect(screen.queryByTestId("confirm-remove")).toBeNull();
    expect(screen.queryByTestId("entry-pane")).toBeNull();
    expect(screen.getByTestId("library-notice").textContent).toContain("Removed Alpha");
  });

  it("is driven by the keyboard: / searches, arrows move, Space selects, Delete asks, Enter opens, Escape clears", async () => {
    const { backend, library } = setup([fakeEntry(1), fakeEntry(2), fakeEntry(3)]);
    await waitFor(() => expect(rows()).toHaveLength(3));
    await fireEvent.keyDown(document.body, { key: "/" });
    expect(document.activeElement).toBe(query());

    const open = screen.getAllByTestId("library-open");
    open[0].focus();
    await fireEvent.keyDown(open[0], { key: "ArrowDown" });
    await waitFor(() => expect(document.activeElement).toBe(screen.getAllByTestId("library-open")[1]));
    await fireEvent.keyDown(document.activeElement!, { key: " " });
    expect(screen.getByTestId("selection-count").textContent).toBe("1 selected");
    // One row in the Tab order: the focused one.
    expect(screen.getAllByTestId("library-open").map((b) => b.tabIndex)).toEqual([-1, 0, -1]);
    await fireEvent.keyDown(document.activeElement!, { key: "ArrowRight" });
    const pane = await screen.findByTestId("entry-pane");
    expect(pane.dataset.entryId).toBe(ids()[1]);
    await fireEvent.keyDown(document.activeElement!, { key: "p" });
    await waitFor(() => expect(screen.getAllByTestId("library-row")[1].querySelector("[data-testid=row-pinned]")).toBeTruthy());
    await fireEvent.keyDown(document.activeElement!, { key: "End" });
    await waitFor(() => expect(document.activeElement).toBe(screen.getAllByTestId("library-open")[2]));
    // The open details follow the focused row.
    expect(screen.getByTestId("entry-pane").dataset.entryId).toBe(ids()[2]);

    await fireEvent.keyDown(document.activeElement!, { key: "Delete" });
    const confirm = screen.getByTestId("confirm-remove");
    expect(document.activeElement).toBe(screen.getByTestId("confirm-remove-cancel"));
    await fireEvent.keyDown(confirm, { key: "Escape" });
    expect(screen.queryByTestId("confirm-remove")).toBeNull();
    expect(backend.calls).not.toContain("libraryRemove");

    // Enter on a focused button is a click.
    const firstId = ids()[0];
    await fireEvent.click(screen.getAllByTestId("library-open")[0]);
    await screen.findByTestId("report-viewer");
    expect(backend.calls).toContain("libraryOpen");
    expect(library.snapshot().entries[0].entry_id).toBe(firstId);
    await fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(rows()).toHaveLength(3));

    await type("node-1");
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(query().value).toBe("");
    await waitFor(() => expect(rows()).toHaveLength(3));
  });

  it("opens a row in the viewer, and reuses an archive already open", async () => {
    const { backend, library } = setup([fakeEntry(7, { title: "Golf" })]);
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.click(row("7"));
    const viewer = await screen.findByTestId("report-viewer");
    expect(viewer.textContent).toContain("Golf");
    expect(library.snapshot().entries[0].entry_id).toBe("7");
    await fireEvent.click(screen.getByTestId("viewer-back"));
    await waitFor(() => expect(document.activeElement).toBe(within(row("7")).getByTestId("library-open")));
    await fireEvent.click(screen.getByTestId("library-open"));
    await screen.findByTestId("report-viewer");
    expect(backend.calls.filter((c) => c === "libraryOpen")).toHaveLength(1);
  });

  it("shows an evicted entry's details instead of failing to open it", async () => {
    const { backend } = setup([fakeEntry(4, { title: "Delta", evicted_at: "2026-06-20T00:00:00Z", downloadable: true })]);
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("library-open"));
    const pane = await screen.findByTestId("entry-pane");
    expect(within(pane).getByTestId("pane-evicted").textContent).toContain("can be downloaded again");
    expect((within(pane).getByTestId("pane-open") as HTMLButtonElement).disabled).toBe(true);
    expect(backend.calls).not.toContain("libraryOpen");
  });

  it("keeps the query and selection when the section is left and shown again", async () => {
    const backend = createFakeBackend({ entries: [fakeEntry(1, { tags: ["x"] }), fakeEntry(2)] });
    const library = createLibraryStore();
    const first = render(Library, { props: { backend, library, now: NOW } });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await type("tag:x");
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("row-select"));
    first.unmount();
    render(Library, { props: { backend, library, now: NOW } });
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(query().value).toBe("tag:x");
    expect(screen.getByTestId("selection-count").textContent).toBe("1 selected");
  });

  it("re-queries when the library changes elsewhere, keeping the selection", async () => {
    const { backend, changes } = setup([fakeEntry(1), fakeEntry(2)]);
    await waitFor(() => expect(rows()).toHaveLength(2));
    await fireEvent.click(within(row("1")).getByTestId("row-select"));
    expect(screen.getByTestId("selection-count").textContent).toBe("1 selected");
    await backend.openArchive("/home/me/snapshot-20260601-103000-node-3.zip");
    expect(rows()).toHaveLength(2);
    changes.set(1);
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.getByTestId("selection-count").textContent).toBe("1 selected");
    expect((within(row("1")).getByTestId("row-select") as HTMLInputElement).checked).toBe(true);
  });

  it("shows a library that cannot be read once, with Retry", async () => {
    const error = { code: "io" as const, message: "database disk image is malformed", hint: "Move it aside.", details: null };
    const { backend } = setup([fakeEntry(1)], { failures: { libraryBrowse: error } });
    const notice = await screen.findByTestId("library-error");
    expect(screen.getAllByRole("alert")).toHaveLength(1);
    expect(screen.getByTestId("library-error-code").textContent).toBe("io");
    expect(screen.getByTestId("library-error-message").textContent).toContain("malformed");
    expect(screen.getByTestId("library-error-hint").textContent).toContain("Move it aside");
    expect(notice).toBeTruthy();
    backend.fail("libraryBrowse", null);
    await fireEvent.click(screen.getByTestId("library-retry"));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(screen.queryByTestId("library-error")).toBeNull();
  });

  it("keeps the DOM small for 10,000 entries and loads pages as it scrolls", async () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => fakeEntry(i + 1));
    const { backend } = setup(entries);
    await waitFor(() => expect(screen.getByTestId("library-total").dataset.total).toBe("10000"), { timeout: 5000 });
    expect(screen.getByTestId("library-list").dataset.total).toBe("10000");
    const drawn = rows().length;
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThanOrEqual(100);
    expect(document.querySelectorAll("li").length).toBeLessThanOrEqual(100);

    const first = screen.getAllByTestId("library-open")[0];
    first.focus();
    await fireEvent.keyDown(first, { key: "End" });
    await waitFor(() => expect((document.activeElement as HTMLElement).dataset.index).toBe("9999"));
    expect(rows().length).toBeLessThanOrEqual(100);
    // Only the pages in view were asked for: the first and the last.
    expect(browses(backend)).toBeLessThanOrEqual(4);

    await type("node-1");
    await waitFor(() => expect(screen.getByTestId("library-total").dataset.total).toBe("3333"));
    expect(rows().length).toBeLessThanOrEqual(100);
  });
});

describe("Compare", () => {
  it("compares two selected entries: status changes, facts and unchanged count", async () => {
    setup([fakeEntry(1, { title: "Old", created_at: "2026-05-01T00:00:00Z" }), fakeEntry(2, { title: "New", created_at: "2026-06-01T00:00:00Z" })]);
    await waitFor(() => expect(rows()).toHaveLength(2));
    const compare = () => screen.getByTestId("compare-selected") as HTMLButtonElement;
    await fireEvent.click(within(row("2")).getByTestId("row-select"));
    expect(compare().disabled).toBe(true);
    // Ctrl-click selects too.
    await fireEvent.click(row("1"), { ctrlKey: true });
    expect(screen.getByTestId("selection-count").textContent).toBe("2 selected");
    expect(compare().disabled).toBe(false);
    await fireEvent.click(compare());

    const diff = await screen.findByTestId("diff-view");
    await waitFor(() => expect(within(diff).getAllByTestId("diff-status-row")).toHaveLength(1));
    // The older entry is "before".
    expect(diff.querySelectorAll(".side-title")[0].textContent).toBe("Old");
    const change = within(diff).getByTestId("diff-status-row");
    expect(change.textContent).toContain("TLS certificate expiry");
    expect(change.textContent).toMatch(/pass.*→.*fail/);
    expect(within(diff).getByTestId("diff-facts").textContent).toContain("days_left");
    expect(within(diff).getByTestId("diff-unchanged").textContent).toBe("40 unchanged");

    await fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(screen.getByTestId("selection-count").textContent).toBe("2 selected");
  });

  it("compares the nodes of a snapshot, differences first, and a cell opens that node's report at the check", async () => {
    const snap = { snapshot_name: "snapshot-20260601-103000" };
    const { backend, library } = setup([
      fakeEntry(1, { ...snap, node_id: "node-1" }),
      fakeEntry(2, { ...snap, node_id: "node-2" }),
      fakeEntry(3, { ...snap, node_id: "node-3" }),
    ]);
    backend.libraryMatrix = async (name) => ({
      snapshot_name: name,
      nodes: ["node-1", "node-2", "node-3"],
      entry_ids: ["1", "2", "3"],
      rows: [
        { check_id: "storage.free", title: "Free space", statuses: ["pass", "pass", "pass"], differs: false },
        { check_id: "kernel.swappiness", title: "vm.swappiness", statuses: ["warn", "pass", null], differs: true },
        { check_id: "certificates.expiry", title: "TLS certificate expiry", statuses: ["pass", "fail", "pass"], differs: true },
      ],
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await fireEvent.click(within(row("2")).getByTestId("row-select"));
    await fireEvent.click(screen.getByTestId("compare-nodes"));

    const matrix = await screen.findByTestId("matrix-view");
    await waitFor(() => expect(within(matrix).getAllByTestId("matrix-row")).toHaveLength(3));
    const order = within(matrix).getAllByTestId("matrix-row").map((r) => [r.dataset.checkId, r.dataset.differs]);
    expect(order).toEqual([
      ["kernel.swappiness", "true"],
      ["certificates.expiry", "true"],
      ["storage.free", "false"],
    ]);
    expect(within(matrix).getByTestId("matrix-summary").textContent).toMatch(/2 of 3 checks differ across 3 nodes/);
    const cells = within(matrix).getAllByTestId("matrix-cell");
    // Labels, not colour only.
    expect(cells.slice(0, 3).map((c) => c.textContent)).toEqual(["warn", "pass", "—"]);
    expect(cells[2].getAttribute("aria-label")).toContain("absent");

    await fireEvent.click(within(matrix).getByTestId("matrix-only-diff"));
    expect(within(matrix).getAllByTestId("matrix-row")).toHaveLength(2);

    const cell = within(matrix).getAllByTestId("matrix-cell").find((c) => c.dataset.status === "fail")!;
    expect(cell.dataset.node).toBe("node-2");
    await fireEvent.click(cell);
    await screen.findByTestId("report-viewer");
    const opened = library.snapshot().entries[0];
    expect(opened.entry_id).toBe("2");
    expect(opened.focusCheck).toBe("certificates.expiry");

    // Back from the report returns to the matrix; Back again to the list.
    await fireEvent.click(screen.getByTestId("viewer-back"));
    await screen.findByTestId("matrix-view");
    await fireEvent.click(screen.getByTestId("compare-back"));
    await waitFor(() => expect(rows()).toHaveLength(3));
  });
});
