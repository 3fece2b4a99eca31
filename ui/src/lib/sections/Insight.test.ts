import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { writable } from "svelte/store";
import Library from "./Library.svelte";
import DiffView from "../library/DiffView.svelte";
import { createFakeBackend } from "../backend";
import { fakeEntry } from "../backend/fake";
import type { AnalysisFinding } from "../bindings/AnalysisFinding";
import type { Entry } from "../bindings/Entry";
import type { NodeLogs } from "../bindings/NodeLogs";
import type { Scope } from "../bindings/Scope";
import type { Timeline } from "../bindings/Timeline";
import type { Triage } from "../bindings/Triage";
import type { TriageItem } from "../bindings/TriageItem";
import { formatLocal } from "../catalog";
import { createLibraryStore } from "../library";

afterEach(() => cleanup());

const NOW = Date.parse("2026-06-30T12:00:00Z");
const OK = { pass: 40, warn: 0, fail: 0, info: 4, error: 0, skipped: 0 };

function setup(entries: Entry[]) {
  const backend = createFakeBackend({ entries });
  const library = createLibraryStore();
  const changes = writable(0);
  render(Library, { props: { backend, library, changes, now: NOW } });
  return { backend, library, changes };
}

async function toTriage() {
  await screen.findAllByTestId("library-row");
  await fireEvent.click(screen.getByTestId("triage-mode-triage"));
  expect(screen.getByTestId("triage-mode-triage").getAttribute("aria-pressed")).toBe("true");
  return screen.findByTestId("triage-board");
}

const rows = () => screen.queryAllByTestId("triage-row");
const row = (check: string) => rows().find((r) => r.dataset.checkId === check)!;

function item(check_id: string, over: Partial<TriageItem>): TriageItem {
  return {
    check_id,
    title: check_id,
    status: "fail",
    state: "persisting",
    nodes: ["node-1"],
    first_seen: "2026-06-01T10:00:00Z",
    last_seen: "2026-06-29T10:00:00Z",
    last_entry_id: "1",
    snapshots_seen: 1,
    ...over,
  };
}

/** As the Rust side ranks it: failures first, then by nodes affected (not alphabetical). */
const BOARD: Triage = {
  scope: { deployment: null, host: null },
  snapshots: 5,
  newest_snapshot: "snapshot-20260629-100000",
  newest_at: "2026-06-29T10:00:00Z",
  items: [
    item("tls.expiry", { title: "TLS certificate expiry", nodes: ["node-1", "node-2", "node-3"], last_entry_id: "12", snapshots_seen: 5 }),
    item("disk.free", { title: "Free space", state: "new", nodes: ["node-2"], first_seen: "2026-06-29T10:00:00Z", last_entry_id: "14" }),
    item("iggy.errors", { title: "Errors in the server log", status: "error", state: "not_collected", nodes: ["node-1", "node-3"], last_entry_id: "10" }),
    item("kernel.swappiness", { title: "vm.swappiness", status: "warn", state: "resolved", last_seen: "2026-06-20T10:00:00Z", last_entry_id: "3" }),
  ],
};

const ENTRIES = [3, 10, 12, 14].map((n) => fakeEntry(n));

describe("Triage board", () => {
  it("lists the ranked checks in the order given, with status, state, nodes and when", async () => {
    const { backend } = setup(ENTRIES);
    backend.libraryTriage = async () => structuredClone(BOARD);
    await toTriage();
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(rows().map((r) => r.dataset.checkId)).toEqual(["tls.expiry", "disk.free", "iggy.errors", "kernel.swappiness"]);
    // States in words, not colour only.
    expect(rows().map((r) => within(r).getByTestId("triage-state").textContent?.trim())).toEqual([
      "persisting",
      "new",
      "not collected",
      "resolved",
    ]);
    expect(rows().map((r) => within(r).getByTestId("triage-status").textContent?.trim())).toEqual(["fail", "fail", "error", "warn"]);

    const tls = row("tls.expiry");
    expect(tls.textContent).toContain("TLS certificate expiry");
    const nodes = within(tls).getByTestId("triage-nodes");
    expect(nodes.dataset.count).toBe("3");
    expect(nodes.textContent).toContain("3 nodes");
    expect(nodes.textContent).toContain("node-1, node-2, node-3");
    expect(within(tls).getByTestId("triage-first-seen").textContent).toContain(formatLocal("2026-06-01T10:00:00Z")!);
    expect(within(tls).getByTestId("triage-first-seen").textContent).toContain("29 d ago");
    expect(within(tls).getByTestId("triage-last-seen").textContent).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d\s+1 d ago/);
    expect(within(tls).getByTestId("triage-seen").textContent).toBe("5 / 5");
    expect(within(row("disk.free")).getByTestId("triage-nodes").textContent).toContain("1 node");
    expect(screen.getByTestId("triage-summary").textContent).toContain("4 checks to look at across 5 snapshots");
    expect(screen.getByTestId("triage-summary").textContent).toContain("snapshot-20260629-100000");
  });

  it("opens a row's check in the report where it was last seen, and comes back to the board", async () => {
    const { backend, library } = setup(ENTRIES);
    backend.libraryTriage = async () => structuredClone(BOARD);
    await toTriage();
    await waitFor(() => expect(rows()).toHaveLength(4));
    await fireEvent.click(within(row("disk.free")).getByTestId("triage-open"));
    await screen.findByTestId("report-viewer");
    const opened = library.snapshot().entries[0];
    expect(opened.entry_id).toBe("14");
    expect(opened.focusCheck).toBe("disk.free");
    expect(library.snapshot().viewing).toBe(opened.token);
    expect(backend.calls).toContain("libraryOpen");

    await fireEvent.click(screen.getByTestId("viewer-back"));
    await screen.findByTestId("triage-board");
    await waitFor(() => expect(rows()).toHaveLength(4));
  });

  it("lists every deployment and host as a scope and re-queries when the scope changes", async () => {
    const e = (n: number, dep: string, name: string, node: string, snap: string, checks = OK) =>
      fakeEntry(n, {
        deployment_id: dep,
        deployment_name: name,
        node_id: node,
        host_name: `${name}-${node}`,
        snapshot_name: snap,
        created_at: `2026-06-0${snap.slice(-1)}T10:00:00Z`,
        checks,
      });
    const { backend } = setup([
      e(1, "111", "iggy-prod", "node-1", "s-1"),
      e(2, "111", "iggy-prod", "node-2", "s-1"),
      e(3, "111", "iggy-prod", "node-1", "s-2", { ...OK, fail: 1 }),
      e(4, "111", "iggy-prod", "node-2", "s-2"),
      e(5, "222", "payments-eu", "node-1", "s-3", { ...OK, warn: 1 }),
    ]);
    const asked: Scope[] = [];
    const triage = backend.libraryTriage;
    backend.libraryTriage = (scope) => {
      asked.push(structuredClone(scope));
      return triage(scope);
    };
    await toTriage();
    await waitFor(() => expect(rows().map((r) => r.dataset.checkId)).toEqual(["certificates.expiry", "kernel.vm_swappiness"]));
    expect(asked).toEqual([{ deployment: null, host: null }]);
    // Across the whole library the failure is gone from the newest snapshot.
    expect(row("certificates.expiry").dataset.state).toBe("resolved");
    expect(row("kernel.vm_swappiness").dataset.state).toBe("new");

    const picker = screen.getByTestId("triage-scope") as HTMLSelectElement;
    await waitFor(() => expect(picker.options.length).toBe(6));
    expect([...picker.options].map((o) => o.textContent)).toEqual([
      "Whole library",
      "iggy-prod · 2 snapshots",
      "payments-eu · 1 snapshot",
      "iggy-prod-node-1 · 2 snapshots",
      "iggy-prod-node-2 · 2 snapshots",
      "payments-eu-node-1 · 1 snapshot",
    ]);

    await fireEvent.change(picker, { target: { value: "d:111" } });
    await waitFor(() => expect(rows().map((r) => r.dataset.checkId)).toEqual(["certificates.expiry"]));
    expect(asked.at(-1)).toEqual({ deployment: "111", host: null });
    expect(row("certificates.expiry").dataset.state).toBe("new");

    await fireEvent.change(picker, { target: { value: "h:payments-eu-node-1" } });
    await waitFor(() => expect(rows().map((r) => r.dataset.checkId)).toEqual(["kernel.vm_swappiness"]));
    expect(asked.at(-1)).toEqual({ deployment: null, host: "payments-eu-node-1" });
  });

  it("says plainly when nothing warned, failed or errored, and shows errors with Retry", async () => {
    const { backend } = setup([fakeEntry(1, { checks: OK }), fakeEntry(2, { checks: OK, snapshot_name: "other" })]);
    const error = { code: "io" as const, message: "database is locked", hint: "Close the other Snapdesk.", details: null };
    backend.fail("libraryTriage", error);
    await toTriage();
    const notice = await screen.findByTestId("triage-error");
    expect(notice.textContent).toContain("database is locked");
    backend.fail("libraryTriage", null);
    await fireEvent.click(screen.getByTestId("triage-retry"));
    const empty = await screen.findByTestId("triage-empty");
    expect(empty.dataset.reason).toBe("clean");
    expect(empty.textContent).toContain("Nothing to triage in the whole library");
    expect(empty.textContent).toContain("No check warned, failed or errored in any of its 2 snapshots");
    expect(rows()).toHaveLength(0);
  });
});

const point = (snapshot: string, day: number, state: string, detail: string | null = null) => ({
  snapshot,
  at: `2026-06-${String(day).padStart(2, "0")}T10:00:00Z`,
  entry_id: state === "not_collected" && detail === "no archive of this node" ? null : String(day),
  state,
  detail,
});

const TIMELINE: Timeline = {
  check_id: "tls.expiry",
  title: "TLS certificate expiry",
  scope: { deployment: null, host: null },
  nodes: [
    {
      node: "node-1",
      points: [point("s-1", 1, "pass"), point("s-2", 2, "fail"), point("s-3", 3, "fail"), point("s-4", 4, "not_collected", "the check was skipped")],
    },
    {
      node: "node-2",
      points: [point("s-1", 1, "pass"), point("s-2", 2, "pass"), point("s-3", 3, "not_collected", "no archive of this node"), point("s-4", 4, "pass")],
    },
  ],
};

const LOGS: NodeLogs[] = [
  {
    node: "node-1",
    entry_id: "2",
    snapshot: "s-2",
    lines: [
      { source: "Iggy server (journald)", at: "2026-06-02T09:58:00Z", line: "2026-06-02T09:58:00Z WARN certificate expires in 6 days" },
      { source: "Kernel log", at: "2026-06-02T10:01:00Z", line: "2026-06-02T10:01:00Z nvme0n1: I/O timeout" },
    ],
    note: null,
  },
  { node: "node-2", entry_id: null, snapshot: null, lines: [], note: "the archive was evicted for the size budget" },
];

describe("Timeline", () => {
  async function openTimeline() {
    const ctx = setup(ENTRIES);
    ctx.backend.libraryTriage = async () => structuredClone(BOARD);
    const asked: [string, string | null, Scope][] = [];
    ctx.backend.libraryTimeline = async (check, node, scope) => {
      asked.push([check, node, structuredClone(scope)]);
      return structuredClone(TIMELINE);
    };
    await toTriage();
    await waitFor(() => expect(rows()).toHaveLength(4));
    const toggle = within(row("tls.expiry")).getByTestId("triage-timeline-toggle");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    await fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    await waitFor(() => expect(screen.getAllByTestId("timeline-strip")).toHaveLength(2));
    return { ...ctx, asked };
  }

  const strip = (node: string) => screen.getAllByTestId("timeline-strip").find((s) => s.dataset.node === node)!;
  const cells = (node: string) => within(strip(node)).getAllByTestId("timeline-cell");

  it("shows a strip per node, a cell per snapshot, not collected as its own state and changes as buttons", async () => {
    const { asked } = await openTimeline();
    expect(asked).toEqual([["tls.expiry", null, { deployment: null, host: null }]]);
    expect(cells("node-1").map((c) => c.dataset.state)).toEqual(["pass", "fail", "fail", "not_collected"]);
    expect(cells("node-2").map((c) => c.dataset.state)).toEqual(["pass", "pass", "not_collected", "pass"]);
    // A letter and a label, not colour only.
    expect(cells("node-1").map((c) => c.textContent)).toEqual(["✓", "F", "F", "–"]);
    expect(cells("node-1")[3].getAttribute("aria-label")).toContain("not collected (the check was skipped)");
    expect(cells("node-2")[2].getAttribute("aria-label")).toContain("not collected (no archive of this node)");
    // Changes: where a state differs from the one before it.
    expect(cells("node-1").map((c) => c.dataset.change)).toEqual(["false", "true", "false", "true"]);
    expect(cells("node-2").map((c) => c.dataset.change)).toEqual(["false", "false", "true", "true"]);
    expect(cells("node-1")[1].tagName).toBe("BUTTON");
    expect(cells("node-1")[2].tagName).toBe("SPAN");
    expect(cells("node-1")[1].getAttribute("aria-label")).toContain("changed from pass");
    expect(strip("node-1").textContent).toContain("2 changes");
  });

  it("loads every node's log lines around a change and shows them by node, as text", async () => {
    const { backend } = await openTimeline();
    const asked: [Scope, string, number, number][] = [];
    backend.libraryLogsAround = async (scope, at, secs, max) => {
      asked.push([structuredClone(scope), at, secs, max]);
      return structuredClone(LOGS);
    };
    await fireEvent.click(cells("node-1")[1]);
    const logs = await screen.findByTestId("timeline-logs");
    expect(asked).toEqual([[{ deployment: null, host: null }, "2026-06-02T10:00:00Z", 300, 200]]);
    expect(cells("node-1")[1].getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(within(logs).getAllByTestId("timeline-logs-node")).toHaveLength(2));
    const [one, two] = within(logs).getAllByTestId("timeline-logs-node");
    expect(one.dataset.node).toBe("node-1");
    expect(within(one).getAllByTestId("timeline-log-line").map((l) => l.textContent)).toEqual([
      "2026-06-02T09:58:00Z WARN certificate expires in 6 days",
      "2026-06-02T10:01:00Z nvme0n1: I/O timeout",
    ]);
    expect(one.textContent).toContain("Iggy server (journald)");
    expect(one.textContent).toContain("Kernel log");
    expect(two.dataset.node).toBe("node-2");
    expect(within(two).getByTestId("timeline-logs-note").textContent).toContain("evicted");
    expect(logs.textContent).toContain("node-1: pass → fail in s-2");

    // Another change asks again; closing hides the logs.
    await fireEvent.click(cells("node-2")[2]);
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(asked[1][1]).toBe("2026-06-03T10:00:00Z");
    await fireEvent.click(await screen.findByTestId("timeline-logs-close"));
    expect(screen.queryByTestId("timeline-logs")).toBeNull();
  });
});

describe("Compare: data continuity", () => {
  const pair = (aOver: Partial<Entry>, bOver: Partial<Entry>) => [
    fakeEntry(1, { title: "Before", has_iggy: true, created_at: "2026-06-01T00:00:00Z", ...aOver }),
    fakeEntry(2, { title: "After", has_iggy: true, created_at: "2026-06-02T00:00:00Z", ...bOver }),
  ];

  function show(entries: Entry[]) {
    const backend = createFakeBackend({ entries });
    render(DiffView, { props: { backend, a: entries[0], b: entries[1], onback: () => {}, onswap: () => {}, onopen: () => {} } });
    return backend;
  }

  it("shows the findings per partition, lost and re-issued offsets first and marked, and lag trends", async () => {
    const backend = show(pair({}, {}));
    const section = await screen.findByTestId("continuity-section");
    await waitFor(() => expect(within(section).getAllByTestId("continuity-finding")).toHaveLength(3));
    expect(backend.calls).toContain("libraryDiff");
    const findings = within(section).getAllByTestId("continuity-finding");
    expect(findings.map((f) => [f.dataset.kind, f.dataset.severe])).toEqual([
      ["messages_lost", "true"],
      ["new_gap", "false"],
      ["consumer_rewound", "false"],
    ]);
    expect(within(findings[0]).getByTestId("continuity-kind").textContent?.trim()).toBe("Messages lost");
    expect(within(findings[0]).getByTestId("continuity-partition").textContent).toBe("streams/1/topics/2/partitions/0");
    expect(within(findings[0]).getByTestId("continuity-messages").textContent).toBe("1,200");
    expect(findings[0].textContent).toContain("48,800..49,999");
    expect(findings[0].textContent).toContain("(1200 messages) are lost");
    expect(findings[0].classList.contains("severe")).toBe(true);
    expect(findings[1].classList.contains("severe")).toBe(false);
    expect(findings[2].textContent).toContain("group 3 (billing)");
    expect(screen.getByTestId("continuity-summary").textContent).toContain("1 with data lost or handed out twice");
    expect(screen.getByTestId("continuity-jump").textContent).toContain("3 data continuity findings");

    const lags = within(section).getAllByTestId("continuity-lag");
    expect(lags.map((l) => l.dataset.trend)).toEqual(["growing", "stalled", "rewound", "shrinking"]);
    expect(within(lags[0]).getByTestId("continuity-trend").textContent?.trim()).toBe("growing");
    expect(within(lags[0]).getByTestId("continuity-lag-messages").textContent?.trim()).toBe("120 → 4,810");
    expect(within(lags[0]).getByTestId("continuity-lag-time").textContent?.trim()).toBe("850 ms → 6 min 12 s");
    expect(within(lags[1]).getByTestId("continuity-lag-time").textContent?.trim()).toBe("—");
    expect(screen.queryByTestId("continuity-note")).toBeNull();
  });

  it("says why the data was not compared", async () => {
    show(pair({}, { has_iggy: false }));
    const note = await screen.findByTestId("continuity-note");
    expect(note.textContent).toContain("continuity needs Iggy data in both snapshots");
    expect(screen.queryAllByTestId("continuity-finding")).toHaveLength(0);
    expect(screen.queryByTestId("continuity-jump")).toBeNull();
  });
});

describe("Analysis, redacted copies and re-analysis", () => {
  async function details(backend: ReturnType<typeof setup>["backend"], id: string) {
    await waitFor(() => expect(screen.getAllByTestId("library-row").length).toBeGreaterThan(0));
    const r = screen.getAllByTestId("library-row").find((x) => x.dataset.entryId === id)!;
    await fireEvent.click(within(r).getByTestId("row-details"));
    void backend;
    return screen.findByTestId("entry-pane");
  }

  it("lists an entry's findings with the new ones marked", async () => {
    const { backend } = setup([fakeEntry(1)]);
    const f = (finding_id: string, fresh: boolean): AnalysisFinding => ({
      entry_id: "1",
      analyzer: "log_signatures",
      version: 2,
      finding_id,
      severity: "fail",
      title: `Title of ${finding_id}`,
      detail: "too many open files (os error 24)",
      count: 3,
      first_flagged_at: "2026-06-29T10:00:00Z",
      new: fresh,
    });
    const asked: string[] = [];
    backend.libraryAnalysis = async (id) => {
      asked.push(id);
      return [f("log.disk_full", false), f("log.too_many_open_files", true)];
    };
    const pane = await details(backend, "1");
    await waitFor(() => expect(within(pane).getAllByTestId("analysis-finding")).toHaveLength(2));
    expect(asked).toEqual(["1"]);
    const [old, fresh] = within(pane).getAllByTestId("analysis-finding");
    expect(old.dataset.new).toBe("false");
    expect(within(old).queryByTestId("analysis-new")).toBeNull();
    expect(fresh.dataset.new).toBe("true");
    expect(within(fresh).getByTestId("analysis-new").textContent?.trim()).toBe("new");
    expect(fresh.textContent).toContain("Title of log.too_many_open_files");
    expect(fresh.textContent).toContain("log_signatures v2");
    expect(within(pane).getByTestId("analysis-new-count").textContent?.trim()).toBe("1 new");
  });

  it("exports a redacted copy and says where it went and what each rule replaced", async () => {
    const { backend } = setup([fakeEntry(1, { redacted: false })]);
    const asked: [string, string][] = [];
    const exportRedacted = backend.libraryExportRedacted;
    backend.libraryExportRedacted = (id, name) => {
      asked.push([id, name]);
      return exportRedacted(id, name);
    };
    const pane = await details(backend, "1");
    await fireEvent.click(within(pane).getByTestId("redact-export"));
    const result = await within(pane).findByTestId("redact-result");
    expect(asked).toEqual([["1", "snapshot-20260602-103001-node-2-redacted.zip"]]);
    expect(within(result).getByTestId("redact-output").textContent).toBe("/home/dev/snapshot-20260602-103001-node-2-redacted.zip");
    expect(within(result).getByTestId("redact-total").textContent).toContain("11 values replaced in 3 files");
    const rules = within(result).getAllByTestId("redact-rule");
    expect(rules.map((r) => r.dataset.rule)).toEqual(["secret_key_value", "bearer_token", "iggy_pat", "pem_private_key", "url_credentials"]);
    expect(rules[0].textContent).toContain("6");

    backend.libraryExportRedacted = async () => null;
    await fireEvent.click(within(pane).getByTestId("redact-export"));
    await waitFor(() => expect(within(pane).getByTestId("redact-result").textContent).toContain("cancelled; nothing was written"));
  });

  it("re-analyzes the library, shows analyzers, counts and newly flagged snapshots, and marks their findings new", async () => {
    const { backend } = setup([1, 2, 3].map((n) => fakeEntry(n, { checks: OK })));
    const pane = await details(backend, "2");
    await within(pane).findByTestId("analysis-empty");

    await fireEvent.click(screen.getByTestId("analysis-reanalyze"));
    const result = await screen.findByTestId("analysis-result");
    expect(backend.calls.filter((c) => c === "libraryReanalyze")).toHaveLength(1);
    expect(result.textContent).toContain("Re-analyzed 3 entries");
    expect(within(result).getByTestId("analysis-analyzers").textContent).toBe("log_signatures v2, fact_rules v1, iggy_data v1");
    expect(within(result).getByTestId("analysis-counts").textContent).toContain("1 new");
    const flagged = within(result).getAllByTestId("analysis-flagged");
    expect(flagged.map((f) => f.dataset.entryId)).toEqual(["2"]);
    expect(flagged[0].textContent).toContain("The server ran out of file descriptors");

    // The open pane reads its findings again: the new one is marked.
    await waitFor(() => expect(within(screen.getByTestId("entry-pane")).getAllByTestId("analysis-finding")).toHaveLength(1));
    expect(within(screen.getByTestId("entry-pane")).getByTestId("analysis-new")).toBeTruthy();

    await fireEvent.click(within(flagged[0]).getByRole("button"));
    await waitFor(() => expect(screen.getByTestId("entry-pane").dataset.entryId).toBe("2"));
    await fireEvent.click(screen.getByTestId("analysis-result-close"));
    expect(screen.queryByTestId("analysis-result")).toBeNull();
  });

  it("shows a failed re-analysis", async () => {
    const { backend } = setup([fakeEntry(1)]);
    backend.fail("libraryReanalyze", { code: "io", message: "disk full", hint: null, details: null });
    await screen.findAllByTestId("library-row");
    await fireEvent.click(screen.getByTestId("analysis-reanalyze"));
    const notice = await screen.findByTestId("analysis-reanalyze-error");
    expect(notice.textContent).toContain("disk full");
    expect(screen.queryByTestId("analysis-result")).toBeNull();
  });
});
