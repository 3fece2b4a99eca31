import { afterEach, describe, expect, it, vi } from "vitest";
import { get, writable } from "svelte/store";
import { createFakeBackend } from "./backend";
import { fakeEntry } from "./backend/fake";
import type { Backend } from "./backend/types";
import type { Browse } from "./bindings/Browse";
import {
  beforeAfter,
  bumpLibraryVersion,
  createCatalog,
  entryState,
  exportName,
  filterTerms,
  formatLocal,
  hasTerm,
  matrixRows,
  parseTerms,
  relativeTime,
  removeTerm,
  termFor,
  toggleTerm,
  tokens,
  type CatalogStore,
} from "./catalog";

describe("query terms", () => {
  it("splits like the Rust side: spaces, and quotes group", () => {
    expect(tokens('  tls  node:"my host" status:fail ')).toEqual(["tls", 'node:"my host"', "status:fail"]);
    expect(tokens("")).toEqual([]);
  });

  it("tells filters from free text", () => {
    expect(parseTerms('cert status:fail,warn node:"a b" foo:bar since: tag:x')).toEqual([
      { raw: "cert", key: null, value: "cert" },
      { raw: "status:fail,warn", key: "status", value: "fail,warn" },
      { raw: 'node:"a b"', key: "node", value: "a b" },
      { raw: "foo:bar", key: null, value: "foo:bar" },
      { raw: "since:", key: null, value: "since:" },
      { raw: "tag:x", key: "tag", value: "x" },
    ]);
    expect(filterTerms("lag has:iggy pinned:yes").map((t) => t.raw)).toEqual(["has:iggy", "pinned:yes"]);
  });

  it("adds, finds and removes terms", () => {
    expect(toggleTerm("", "status:fail")).toBe("status:fail");
    expect(toggleTerm("lag  ", "status:fail")).toBe("lag status:fail");
    expect(toggleTerm("lag STATUS:fail", "status:fail")).toBe("lag");
    expect(hasTerm("a pinned:yes", "pinned:yes")).toBe(true);
    expect(hasTerm("a pinned:yes", "pinned:no")).toBe(false);
    expect(removeTerm('x node:"a b" y', 'node:"a b"')).toBe("x y");
    expect(removeTerm("x y", "z")).toBe("x y");
    expect(termFor("node", "my host")).toBe('node:"my host"');
    expect(termFor("tag", "tls")).toBe("tag:tls");
  });
});

describe("dates, states and names", () => {
  const now = Date.parse("2026-06-30T12:00:00Z");

  it("formats local time and relative time", () => {
    expect(formatLocal(null)).toBeNull();
    expect(formatLocal("nonsense")).toBe("nonsense");
    expect(formatLocal("2026-06-01T10:30:00Z")).toMatch(/^2026-06-0[12] \d\d:\d0$/);
    expect(relativeTime("2026-06-30T11:59:30Z", now)).toBe("just now");
    expect(relativeTime("2026-06-30T11:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-06-30T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-06-18T12:00:00Z", now)).toBe("12 d ago");
    expect(relativeTime("2026-07-04T12:00:00Z", now)).toBe("in 4 d");
    expect(relativeTime(null, now)).toBeNull();
  });

  it("says evicted, expired and downloadable", () => {
    expect(entryState({ evicted_at: null, expires_at: null, downloadable: false }, now)).toEqual({
      evicted: false,
      expired: false,
      downloadable: false,
    });
    expect(entryState({ evicted_at: "2026-06-01T00:00:00Z", expires_at: "2026-06-29T00:00:00Z", downloadable: true }, now)).toEqual({
      evicted: true,
      expired: true,
      downloadable: true,
    });
    // Not evicted: nothing to download again, whatever the flag says.
    expect(entryState({ evicted_at: null, expires_at: "2026-07-29T00:00:00Z", downloadable: true }, now).downloadable).toBe(false);
  });

  it("makes a safe export name", () => {
    expect(exportName(fakeEntry(3, { snapshot_name: "snap 1/../x", node_id: "node-1" }))).toBe("snap-1-..-x-node-1.zip");
    expect(exportName(fakeEntry(3, { snapshot_name: null, title: "///", node_id: null }))).toBe("entry-3.zip");
  });

  it("puts differing matrix rows first, and picks before/after by date", () => {
    const rows = [
      { check_id: "a", title: "A", statuses: ["pass"], differs: false },
      { check_id: "b", title: "B", statuses: ["fail"], differs: true },
      { check_id: "c", title: "C", statuses: ["pass"], differs: false },
      { check_id: "d", title: "D", statuses: ["warn"], differs: true },
    ];
    expect(matrixRows(rows).map((r) => r.check_id)).toEqual(["b", "d", "a", "c"]);
    expect(matrixRows(rows, true).map((r) => r.check_id)).toEqual(["b", "d"]);
    const old = fakeEntry(1, { created_at: "2026-05-01T00:00:00Z" });
    const fresh = fakeEntry(2, { created_at: "2026-06-01T00:00:00Z" });
    expect(beforeAfter(fresh, old).map((e) => e.id)).toEqual(["1", "2"]);
    expect(beforeAfter(old, fresh).map((e) => e.id)).toEqual(["1", "2"]);
  });

  it("bumps the library version", () => {
    const v = writable(0);
    bumpLibraryVersion(v);
    bumpLibraryVersion(v);
    expect(get(v)).toBe(2);
  });
});

/** A backend whose browse answers are released by hand, to test ordering. */
function manualBackend(base: Backend) {
  const waiting: { query: string; offset: number; release: () => void }[] = [];
  const backend: Backend = {
    ...base,
    libraryBrowse(query, sort, offset, limit) {
      return new Promise<Browse>((resolve, reject) => {
        waiting.push({ query, offset, release: () => base.libraryBrowse(query, sort, offset, limit).then(resolve, reject) });
      });
    },
  };
  return { backend, waiting };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("catalog store", () => {
  let catalog: CatalogStore | undefined;
  afterEach(() => catalog?.destroy());

  const entries = Array.from({ length: 450 }, (_, i) => fakeEntry(i + 1, { tags: i % 2 ? ["odd"] : [] }));

  it("loads the first page with totals, and further pages as the window reaches them", async () => {
    const backend = createFakeBackend({ entries });
    catalog = createCatalog(backend, { pageSize: 100 });
    expect(catalog.snapshot().phase).toBe("loading");
    await catalog.refresh();
    let s = catalog.snapshot();
    expect(s.phase).toBe("ready");
    expect(s.total).toBe(450);
    expect(s.totals.pass).toBe(450 * 40);
    expect([...s.pages.keys()]).toEqual([0]); // the default window is the first page
    expect(s.pages.get(0)).toHaveLength(100);
    expect(catalog.entryAt(99)).toBeDefined();
    expect(catalog.entryAt(300)).toBeUndefined();
    catalog.ensure(300, 330);
    await flush();
    s = catalog.snapshot();
    expect(s.pages.has(3)).toBe(true);
    expect(catalog.entryAt(300)).toBeDefined();
  });

  it("asks at once, coalesces keystrokes while a query is on its way, and asks for the newest when it returns", async () => {
    const { backend, waiting } = manualBackend(createFakeBackend({ entries }));
    catalog = createCatalog(backend, { pageSize: 500 });
    void catalog.refresh();
    waiting.shift()!.release();
    await flush();
    expect(catalog.snapshot().total).toBe(450);

    // What is typed in one tick is one request, sent without waiting for more keys.
    catalog.setQuery("t");
    catalog.setQuery("ta");
    catalog.setQuery("tag:odd");
    expect(catalog.snapshot().busy).toBe(true);
    await flush();
    expect(waiting.map((w) => w.query)).toEqual(["tag:odd"]);
    const first = waiting.shift()!;
    // Keys pressed while it is on its way send nothing yet...
    catalog.setQuery("tag:o");
    catalog.setQuery("tag:none");
    await new Promise((r) => setTimeout(r, 20));
    expect(waiting).toEqual([]);
    // ...its answer is shown (the list lags the box), still busy, and only the newest text follows.
    first.release();
    await flush();
    expect(catalog.snapshot().shown).toBe("tag:odd");
    expect(catalog.snapshot().total).toBe(225);
    expect(catalog.snapshot().busy).toBe(true);
    expect(waiting.map((w) => w.query)).toEqual(["tag:none"]);
    waiting.shift()!.release();
    await flush();
    expect(catalog.snapshot().shown).toBe("tag:none");
    expect(catalog.snapshot().total).toBe(0);
    expect(catalog.snapshot().busy).toBe(false);
    expect(waiting).toEqual([]);
  });

  it("drops an answer overtaken by a newer run", async () => {
    const { backend, waiting } = manualBackend(createFakeBackend({ entries }));
    catalog = createCatalog(backend, { pageSize: 500 });
    catalog.setQuery("tag:odd");
    await flush();
    const slow = waiting.shift()!;
    // A library change refreshes at once, with the same query, while the first is on its way.
    void catalog.refresh();
    const fast = waiting.shift()!;
    fast.release();
    await flush();
    expect(catalog.snapshot().total).toBe(225);
    const top = catalog.entryAt(0)!;
    catalog.patch(top.id, { note: "kept" });
    slow.release();
    await flush();
    // The late answer does not replace the newer one (the patched note stays).
    expect(catalog.entryAt(0)?.id).toBe(top.id);
    expect(catalog.entryAt(0)?.note).toBe("kept");
    expect(catalog.snapshot().busy).toBe(false);
  });

  it("coalesces a burst of library changes into one refresh", async () => {
    const backend = createFakeBackend({ entries });
    catalog = createCatalog(backend);
    await catalog.refresh();
    const before = backend.calls.length;
    for (let i = 0; i < 20; i++) catalog.refreshSoon(10);
    await new Promise((r) => setTimeout(r, 40));
    expect(backend.calls.length - before).toBe(1);
  });

  it("sends a query before the page draws the keystroke: in a microtask, one per task", async () => {
    const backend = createFakeBackend({ entries });
    catalog = createCatalog(backend);
    await catalog.refresh();
    const before = backend.calls.length;
    catalog.setQuery("s");
    catalog.setQuery("st");
    catalog.setSort("size");
    expect(backend.calls.length).toBe(before);
    // A microtask later (no timer has run yet) the newest query is on its way, once.
    await Promise.resolve();
    expect(backend.calls.slice(before)).toEqual(["libraryBrowse"]);
    await vi.waitFor(() => expect(catalog!.snapshot().shown).toBe("st"));
    expect(backend.calls.length - before).toBe(1);
  });

  it("sorts through the backend", async () => {
    const backend = createFakeBackend({ entries: [fakeEntry(1, { size: 5 }), fakeEntry(2, { size: 9 }), fakeEntry(3, { size: 1 })] });
    catalog = createCatalog(backend, { debounceMs: 0 });
    await catalog.refresh();
    catalog.setSort("size");
    await vi.waitFor(() => expect(catalog!.snapshot().busy).toBe(false));
    expect([0, 1, 2].map((i) => catalog!.entryAt(i)?.id)).toEqual(["2", "1", "3"]);
  });

  it("keeps the list when the query is wrong, and says why", async () => {
    const backend = createFakeBackend({ entries });
    catalog = createCatalog(backend, { debounceMs: 0 });
    await catalog.refresh();
    backend.fail("libraryBrowse", { code: "invalid_input", message: "status:nope: a status is one of pass, warn", hint: null, details: null });
    catalog.setQuery("status:nope");
    await vi.waitFor(() => expect(catalog!.snapshot().queryError?.message).toContain("status:nope"));
    expect(catalog.snapshot().phase).toBe("ready");
    expect(catalog.snapshot().total).toBe(450);
    backend.fail("libraryBrowse", null);
    catalog.setQuery("status:fail");
    await vi.waitFor(() => expect(catalog!.snapshot().queryError).toBeNull());
  });

  it("reports a failing library, and Retry reads it again", async () => {
    const backend = createFakeBackend({ entries });
    backend.fail("libraryBrowse", { code: "io", message: "database disk image is malformed", hint: "Move it aside.", details: null });
    catalog = createCatalog(backend);
    await catalog.refresh();
    expect(catalog.snapshot().phase).toBe("error");
    expect(catalog.snapshot().error?.code).toBe("io");
    backend.fail("libraryBrowse", null);
    const retry = catalog.refresh();
    expect(catalog.snapshot().phase).toBe("loading");
    await retry;
    expect(catalog.snapshot().phase).toBe("ready");
    expect(catalog.snapshot().error).toBeNull();
  });

  it("keeps the selection across queries, and patches loaded entries", async () => {
    const backend = createFakeBackend({ entries });
    catalog = createCatalog(backend, { debounceMs: 0 });
    await catalog.refresh();
    const a = catalog.entryAt(0)!;
    const b = catalog.entryAt(1)!;
    catalog.toggleSelect(a);
    catalog.toggleSelect(b);
    catalog.setQuery("tag:none");
    await vi.waitFor(() => expect(catalog!.snapshot().total).toBe(0));
    expect(catalog.snapshot().selected.map((e) => e.id)).toEqual([a.id, b.id]);
    catalog.toggleSelect(a);
    expect(catalog.snapshot().selected.map((e) => e.id)).toEqual([b.id]);
    catalog.patch(b.id, { pinned: true });
    expect(catalog.snapshot().selected[0].pinned).toBe(true);
    catalog.deselect(b.id);
    expect(catalog.snapshot().selected).toEqual([]);
  });
});
