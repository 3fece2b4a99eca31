/**
 * The fake backend's insight across snapshots: scopes, the triage board,
 * timelines, logs around a moment, data continuity, analysis findings,
 * re-analysis and redacted copies, all derived deterministically from the
 * fake library's entries (so previews with `?fake=library` are consistent).
 * The Rust side (crates/snapdesk-library/src/insight.rs) is the reference.
 */
import type { AnalysisFinding } from "../bindings/AnalysisFinding";
import type { Continuity } from "../bindings/Continuity";
import type { Entry } from "../bindings/Entry";
import type { NodeLogs } from "../bindings/NodeLogs";
import type { Reanalysis } from "../bindings/Reanalysis";
import type { RedactedCopy } from "../bindings/RedactedCopy";
import type { Scope } from "../bindings/Scope";
import type { Timeline } from "../bindings/Timeline";
import type { Triage } from "../bindings/Triage";
import type { TriageItem } from "../bindings/TriageItem";
import type { TriageState } from "../bindings/TriageState";
import type { Scopes } from "../insight";

const TITLES: Record<string, string> = {
  "certificates.expiry": "TLS certificate expiry",
  "iggy.server_errors": "Errors in the Iggy server log",
  "kernel.vm_swappiness": "vm.swappiness",
  "storage.free": "Free space on the data disk",
};

/** The statuses of the fake checks of an entry, from its counts (absent: not collected). */
export function fakeCheckStatuses(e: Entry): Record<string, string> {
  const n = Number(e.id);
  const out: Record<string, string> = {
    "certificates.expiry": e.checks.fail > 0 ? "fail" : "pass",
    "kernel.vm_swappiness": e.checks.warn > 0 ? "warn" : "pass",
    "storage.free": e.checks.warn > 2 ? "warn" : "pass",
  };
  if (e.checks.error > 0) out["iggy.server_errors"] = "error";
  else if (n % 53 !== 3) out["iggy.server_errors"] = e.checks.skipped > 0 && n % 41 === 1 ? "skipped" : "pass";
  return out;
}

const node = (e: Entry) => e.node_id ?? e.host_name ?? `entry ${e.id}`;
const at = (e: Entry) => e.created_at ?? e.added_at;

function inScope(e: Entry, scope: Scope): boolean {
  if (scope.deployment !== null && e.deployment_id !== scope.deployment && e.deployment_name !== scope.deployment) {
    return false;
  }
  return scope.host === null || e.host_name === scope.host;
}

interface Snap {
  name: string;
  at: string;
  entries: Entry[];
}

/** The scope's entries grouped into snapshots, oldest first. */
function snapshots(entries: Entry[], scope: Scope): Snap[] {
  const by = new Map<string, Snap>();
  for (const e of entries.filter((x) => inScope(x, scope))) {
    const name = e.snapshot_name ?? `entry-${e.id}`;
    let s = by.get(name);
    if (!s) by.set(name, (s = { name, at: at(e), entries: [] }));
    s.entries.push(e);
    if (at(e) < s.at) s.at = at(e);
  }
  return [...by.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.name.localeCompare(b.name)));
}

export function fakeScopes(entries: Entry[]): Scopes {
  const deps = new Map<string, { id: string; name: string | null; names: Set<string> }>();
  const hosts = new Map<string, number>();
  for (const e of entries) {
    if (e.deployment_id) {
      const d = deps.get(e.deployment_id) ?? { id: e.deployment_id, name: e.deployment_name, names: new Set() };
      d.names.add(e.snapshot_name ?? e.id);
      deps.set(e.deployment_id, d);
    }
    if (e.host_name) hosts.set(e.host_name, (hosts.get(e.host_name) ?? 0) + 1);
  }
  return {
    deployments: [...deps.values()]
      .map((d) => ({ id: d.id, name: d.name, snapshots: d.names.size }))
      .sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id)),
    hosts: [...hosts].map(([name, snapshots]) => ({ name, snapshots })).sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const RANK: Record<string, number> = { fail: 0, error: 1, warn: 2 };
const STATE_ORDER: TriageState[] = ["new", "persisting", "not_collected", "resolved"];

export function fakeTriage(entries: Entry[], scope: Scope): Triage {
  const snaps = snapshots(entries, scope);
  const newest = snaps.length - 1;
  const acc = new Map<string, { first: number; last: number; seen: Set<number>; atLast: Map<string, [number, string]> }>();
  snaps.forEach((s, i) => {
    for (const e of s.entries) {
      for (const [check, status] of Object.entries(fakeCheckStatuses(e))) {
        if (!(status in RANK)) continue;
        let a = acc.get(check);
        if (!a) acc.set(check, (a = { first: i, last: i, seen: new Set(), atLast: new Map() }));
        if (i > a.last) a.atLast.clear();
        a.last = i;
        a.seen.add(i);
        const was = a.atLast.get(node(e));
        if (!was || RANK[status] < was[0]) a.atLast.set(node(e), [RANK[status], e.id]);
      }
    }
  });
  const items: TriageItem[] = [];
  for (const [check, a] of acc) {
    let state: TriageState;
    if (a.last === newest) state = a.first === newest ? "new" : "persisting";
    else {
      const passes = [...a.atLast.keys()].every((n) => {
        const e = snaps[newest].entries.find((x) => node(x) === n);
        const s = e ? fakeCheckStatuses(e)[check] : undefined;
        return s === "pass" || s === "info";
      });
      state = passes ? "resolved" : "not_collected";
    }
    const [rank, entry] = [...a.atLast.values()].sort((x, y) => x[0] - y[0])[0];
    items.push({
      check_id: check,
      title: TITLES[check] ?? check,
      status: ["fail", "error", "warn"][rank],
      state,
      nodes: [...a.atLast.keys()].sort(),
      first_seen: snaps[a.first].at,
      last_seen: snaps[a.last].at,
      last_entry_id: entry,
      snapshots_seen: a.seen.size,
    });
  }
  items.sort(
    (x, y) =>
      RANK[x.status] - RANK[y.status] ||
      y.nodes.length - x.nodes.length ||
      STATE_ORDER.indexOf(x.state) - STATE_ORDER.indexOf(y.state) ||
      x.check_id.localeCompare(y.check_id),
  );
  return {
    scope: { ...scope },
    snapshots: snaps.length,
    newest_snapshot: snaps[newest]?.name ?? null,
    newest_at: snaps[newest]?.at ?? null,
    items,
  };
}

export function fakeTimeline(entries: Entry[], checkId: string, only: string | null, scope: Scope): Timeline {
  const snaps = snapshots(entries, scope);
  const nodes = [...new Set(snaps.flatMap((s) => s.entries.map(node)))].filter((n) => !only || n === only).sort();
  return {
    check_id: checkId,
    title: TITLES[checkId] ?? null,
    scope: { ...scope },
    nodes: nodes.map((n) => ({
      node: n,
      points: snaps.map((s) => {
        const e = s.entries.find((x) => node(x) === n);
        const st = e ? fakeCheckStatuses(e)[checkId] : undefined;
        const nc = !e ? "no archive of this node" : !st ? "the check is absent" : st === "skipped" ? "the check was skipped" : null;
        return { snapshot: s.name, at: s.at, entry_id: e?.id ?? null, state: nc ? "not_collected" : st!, detail: nc };
      }),
    })),
  };
}

const LOG_LINES: [number, string, string][] = [
  [-280, "Iggy server (journald)", "INFO iggy_server::streaming::persistence: saved 1024 messages to partition 0"],
  [-190, "Iggy server (journald)", "WARN iggy_server::tcp::tcp_listener: connection reset by peer 10.0.4.17:51734"],
  [-95, "Kernel log", "nvme0n1: I/O 412 QID 3 timeout, completion polled"],
  [-40, "Iggy server (journald)", "ERROR iggy_server::streaming::segments: failed to persist messages: No space left on device (os error 28)"],
  [-12, "Iggy server (journald)", "WARN iggy_server::configs: certificate /etc/iggy/tls/server.pem expires in 6 days"],
  [25, "Iggy server (journald)", "INFO iggy_server::binary::handlers: client 318 authenticated as user 'billing'"],
  [140, "Kernel log", "EXT4-fs warning (device nvme0n1p2): ext4_dx_add_entry: Directory index full!"],
  [260, "Iggy server (journald)", "INFO iggy_server::streaming::partitions: partition 0 of orders/audit: 49,999 messages"],
];

export function fakeLogsAround(entries: Entry[], scope: Scope, moment: string, windowSecs: number, maxLines: number): NodeLogs[] {
  const t = Date.parse(moment);
  const snaps = snapshots(entries, scope);
  const nodes = [...new Set(snaps.flatMap((s) => s.entries.map(node)))].sort();
  return nodes.map((n, k) => {
    const mine = snaps.flatMap((s) => s.entries.filter((e) => node(e) === n));
    const e = mine.find((x) => at(x) >= moment) ?? mine[mine.length - 1];
    if (!e) return { node: n, entry_id: null, snapshot: null, lines: [], note: "no snapshot of this node" };
    const base = { node: n, entry_id: e.id, snapshot: e.snapshot_name };
    if (e.evicted_at) return { ...base, lines: [], note: "the archive was evicted for the size budget" };
    if (k % 3 === 2) return { ...base, lines: [], note: "no log line within 5 min of that moment" };
    const lines = LOG_LINES.filter(([dt]) => Math.abs(dt) <= windowSecs)
      .slice(0, maxLines)
      .map(([dt, source, text]) => {
        const when = Number.isNaN(t) ? null : new Date(t + (dt + k * 3) * 1000).toISOString();
        return { source, at: when, line: when ? `${when.slice(0, 19)}Z ${text}` : text };
      });
    return { ...base, lines, note: null };
  });
}

export function fakeContinuity(a: Entry, b: Entry): { continuity: Continuity | null; continuity_note: string | null } {
  let note: string | null = null;
  if (!a.has_iggy || !b.has_iggy) note = "continuity needs Iggy data in both snapshots";
  else if (a.deployment_id && b.deployment_id && a.deployment_id !== b.deployment_id) {
    note = "the two snapshots are of different deployments";
  } else if (a.evicted_at || b.evicted_at) note = "an archive was evicted for the size budget: its data cannot be read";
  if (note) return { continuity: null, continuity_note: note };
  const audit = "streams/1/topics/2/partitions/0";
  return {
    continuity: {
      before: `${a.snapshot_name ?? a.id}/iggy-data.zip`,
      after: `${b.snapshot_name ?? b.id}/iggy-data.zip`,
      partitions_compared: 6,
      findings: [
        {
          partition: audit,
          label: "orders/audit/0",
          kind: "messages_lost",
          messages: 1200,
          first_offset: 48800,
          last_offset: 49999,
          consumer: null,
          message: "orders/audit/0: the last offset went back from 49999 to 48799: offsets 48800..49999 (1200 messages) are lost",
        },
        {
          partition: "streams/1/topics/1/partitions/2",
          label: "orders/created/2",
          kind: "new_gap",
          messages: 64,
          first_offset: 10240,
          last_offset: 10303,
          consumer: null,
          message: "orders/created/2: 64 offsets inside the partition's range are missing now that were not before (the first hole: 10240..10303)",
        },
        {
          partition: audit,
          label: "orders/audit/0",
          kind: "consumer_rewound",
          messages: 310,
          first_offset: 48490,
          last_offset: 48800,
          consumer: "group 3 (billing)",
          message: "orders/audit/0: group 3 (billing)'s stored offset went back from 48800 to 48490: 310 messages will be delivered again",
        },
      ],
      lags: [
        { partition: "streams/1/topics/1/partitions/0", label: "orders/created/0", consumer: "group 1 (fulfilment)", trend: "growing", offset_before: 90_112, offset_after: 91_004, lag_before: 120, lag_after: 4_810, lag_ms_before: 850, lag_ms_after: 372_000 },
        { partition: "streams/1/topics/1/partitions/1", label: "orders/created/1", consumer: "consumer 7", trend: "stalled", offset_before: 55_020, offset_after: 55_020, lag_before: 12, lag_after: 2_230, lag_ms_before: null, lag_ms_after: null },
        { partition: audit, label: "orders/audit/0", consumer: "group 3 (billing)", trend: "rewound", offset_before: 48_800, offset_after: 48_490, lag_before: 1_199, lag_after: 309, lag_ms_before: 64_000, lag_ms_after: 12_500 },
        { partition: "streams/2/topics/1/partitions/0", label: "payments/ledger/0", consumer: "group 2 (ledger)", trend: "shrinking", offset_before: 7_000, offset_after: 7_410, lag_before: 420, lag_after: 10, lag_ms_before: 9_100, lag_ms_after: 200 },
      ],
      notes: [],
    },
    continuity_note: null,
  };
}

/** Findings of an entry: log signatures on every third, expiring certificates where the check fails, torn data. */
export function fakeAnalysis(e: Entry, reanalyzed: boolean): AnalysisFinding[] {
  const n = Number(e.id);
  const flagged = e.added_at;
  const f = (analyzer: string, finding_id: string, severity: string, title: string, detail: string, count: number, fresh: boolean): AnalysisFinding => ({
    entry_id: e.id,
    analyzer,
    version: analyzer === "log_signatures" && reanalyzed ? 2 : 1,
    finding_id,
    severity,
    title,
    detail,
    count,
    first_flagged_at: fresh ? new Date(Date.parse(flagged) + 86_400_000).toISOString() : flagged,
    new: fresh,
  });
  const out: AnalysisFinding[] = [];
  if (n % 3 === 0) {
    out.push(f("log_signatures", "log.disk_full", "fail", "The disk filled up: writes failed with ENOSPC", "ERROR iggy_server::streaming::segments: failed to persist messages: No space left on device (os error 28)", 14, false));
  }
  if (e.checks.fail > 0) {
    out.push(f("fact_rules", "facts.certificate_expiring", "warn", "A certificate expires within 30 days", "/etc/iggy/tls/server.pem: 6 days left", 1, false));
  }
  if (e.has_iggy && n % 4 === 0) {
    out.push(f("iggy_data", "iggy.torn_tail", "fail", "A segment ends in a torn message", "streams/1/topics/2/partitions/0/00000000000000048000.log: 1 partial message at the end", 1, false));
  }
  if (reanalyzed && n % 60 === 2) {
    out.push(f("log_signatures", "log.too_many_open_files", "fail", "The server ran out of file descriptors", "ERROR iggy_server::tcp: accept failed: Too many open files (os error 24)", 3, true));
  }
  return out;
}

export function fakeReanalysis(entries: Entry[]): Reanalysis {
  const all = entries.flatMap((e) => fakeAnalysis(e, true));
  const flagged = entries
    .filter((e) => fakeAnalysis(e, true).some((x) => x.new))
    .sort((a, b) => (at(a) < at(b) ? -1 : 1))
    .map((e) => ({ entry_id: e.id, snapshot_name: e.snapshot_name, node: e.node_id ?? e.host_name, created_at: e.created_at, findings: fakeAnalysis(e, true) }));
  const unreadable = entries.filter((e) => !e.evicted_at && e.integrity === "mismatch").slice(0, 3);
  return {
    analyzers: [
      { id: "log_signatures", version: 2 },
      { id: "fact_rules", version: 1 },
      { id: "iggy_data", version: 1 },
    ],
    entries_analyzed: entries.length,
    entries_facts_only: entries.filter((e) => e.evicted_at).length,
    findings: all.length,
    new_findings: all.filter((x) => x.new).length,
    flagged,
    errors: unreadable.map((e) => [e.id, "the archive's entries do not match its manifest"] as [string, string]),
  };
}

export function fakeRedactedCopy(e: Entry, name: string): RedactedCopy {
  const counts: Record<string, number> =
    e.redacted === false
      ? { secret_key_value: 6, bearer_token: 2, url_credentials: 1, iggy_pat: 1, pem_private_key: 1 }
      : { secret_key_value: 1 };
  return {
    input: `/home/dev/.local/share/snapdesk/library/objects/${e.sha256.slice(0, 2)}/${e.sha256}.zip`,
    output: `/home/dev/${name}`,
    counts,
    total: Object.values(counts).reduce((s, n) => s + n, 0),
    changed: e.redacted === false ? ["report.html", "logs/iggy-server.log", "iggy-data.zip/config.toml"] : ["report.html"],
    input_was_redacted: e.redacted === true,
  };
}
