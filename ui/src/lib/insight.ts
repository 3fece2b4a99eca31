/**
 * Insight across snapshots (issue 14): the types the Rust side has no
 * generated binding for yet, and the pure helpers the triage board, the
 * timelines, the compare view's continuity and the analysis findings share.
 */
import type { ChipTone } from "./components/Chip.svelte";
import type { Continuity } from "./bindings/Continuity";
import type { ContinuityKind } from "./bindings/ContinuityKind";
import type { Diff } from "./bindings/Diff";
import type { LagTrend } from "./bindings/LagTrend";
import type { Scope } from "./bindings/Scope";
import type { TimelinePoint } from "./bindings/TimelinePoint";
import type { TriageState } from "./bindings/TriageState";

/**
 * What the triage board can be scoped to (`library_scopes`). Mirrored in Rust
 * with ts-rs; a generated `bindings/Scopes.ts` replaces this when it appears.
 */
export type Scopes = {
  deployments: { id: string; name: string | null; snapshots: number }[];
  hosts: { name: string; snapshots: number }[];
};

/** `library_diff`: the checks compared, plus the continuity of both snapshots' Iggy data. */
export type DataDiff = Diff & { continuity: Continuity | null; continuity_note: string | null };

// ---------------------------------------------------------------------------
// Scopes: a <select> value per scope.

export const WHOLE_LIBRARY: Scope = { deployment: null, host: null };

/** `""` for the whole library, `d:<id>` for a deployment, `h:<name>` for a host. */
export function scopeKey(scope: Scope): string {
  if (scope.deployment !== null) return `d:${scope.deployment}`;
  if (scope.host !== null) return `h:${scope.host}`;
  return "";
}

export function scopeFromKey(key: string): Scope {
  if (key.startsWith("d:")) return { deployment: key.slice(2), host: null };
  if (key.startsWith("h:")) return { deployment: null, host: key.slice(2) };
  return { ...WHOLE_LIBRARY };
}

/** "the whole library", "deployment iggy-prod", "host iggy-dev-01". */
export function scopeLabel(scope: Scope, scopes: Scopes | null = null): string {
  if (scope.deployment !== null) {
    const d = scopes?.deployments.find((x) => x.id === scope.deployment);
    return `deployment ${d?.name ?? scope.deployment}`;
  }
  if (scope.host !== null) return `host ${scope.host}`;
  return "the whole library";
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------
// Triage states.

export const TRIAGE_STATES: Record<TriageState, { label: string; tone: ChipTone; title: string }> = {
  new: { label: "new", tone: "fail", title: "Bad in the newest snapshot only" },
  persisting: { label: "persisting", tone: "warn", title: "Bad in the newest snapshot and before it" },
  resolved: { label: "resolved", tone: "pass", title: "Passing in the newest snapshot on every node it was bad on" },
  not_collected: {
    label: "not collected",
    tone: "muted",
    title: "Skipped or missing in the newest snapshot: not a pass",
  },
};

export function triageState(state: TriageState) {
  return TRIAGE_STATES[state] ?? { label: state, tone: "muted" as ChipTone, title: state };
}

// ---------------------------------------------------------------------------
// Timelines.

/** The words for a timeline cell's state. */
export function pointLabel(state: string): string {
  return state === "not_collected" ? "not collected" : state;
}

/** The letter a cell shows, so that the state is not told by colour alone. */
export function pointGlyph(state: string): string {
  switch (state) {
    case "pass":
      return "✓";
    case "fail":
      return "F";
    case "error":
      return "E";
    case "warn":
      return "W";
    case "info":
      return "i";
    case "not_collected":
      return "–";
    default:
      return "?";
  }
}

/** Whether the point at `i` differs from the one before it (the first point is no change). */
export function isChange(points: TimelinePoint[], i: number): boolean {
  return i > 0 && points[i].state !== points[i - 1].state;
}

/** How many changes a strip has. */
export function changeCount(points: TimelinePoint[]): number {
  let n = 0;
  for (let i = 1; i < points.length; i++) if (isChange(points, i)) n++;
  return n;
}

// ---------------------------------------------------------------------------
// Continuity.

export const CONTINUITY_KINDS: Record<ContinuityKind, { label: string; severe: boolean }> = {
  messages_lost: { label: "Messages lost", severe: true },
  partition_gone: { label: "Partition gone", severe: true },
  offsets_reissued: { label: "Offsets re-issued", severe: true },
  new_gap: { label: "New gap", severe: false },
  segments_gone: { label: "Segments gone", severe: false },
  consumer_rewound: { label: "Consumer rewound", severe: false },
};

export function continuityKind(kind: ContinuityKind) {
  return CONTINUITY_KINDS[kind] ?? { label: kind.replaceAll("_", " "), severe: false };
}

export const LAG_TRENDS: Record<LagTrend, { label: string; tone: ChipTone }> = {
  growing: { label: "growing", tone: "warn" },
  stalled: { label: "stalled", tone: "fail" },
  rewound: { label: "rewound", tone: "fail" },
  shrinking: { label: "shrinking", tone: "pass" },
  steady: { label: "steady", tone: "muted" },
};

export function lagTrend(trend: LagTrend) {
  return LAG_TRENDS[trend] ?? { label: trend, tone: "muted" as ChipTone };
}

/** "850 ms", "12.4 s", "7 min 5 s", "3 h 20 min", "2 d 4 h"; "—" for none. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const parts: [number, string][] = [
    [86_400, "d"],
    [3_600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  let rest = Math.round(s);
  const out: string[] = [];
  for (const [unit, name] of parts) {
    if (rest >= unit) {
      out.push(`${Math.floor(rest / unit)} ${name}`);
      rest %= unit;
    }
    if (out.length === 2) break;
  }
  return out.join(" ");
}

/** A count of messages, or "—" when unknown. */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

/** "48,800..49,999", "7", or "" when the finding has no range. */
export function offsetRange(first: number | null, last: number | null): string {
  if (first === null && last === null) return "";
  if (first === null || last === null || first === last) return formatCount(first ?? last);
  return `${formatCount(first)}..${formatCount(last)}`;
}

// ---------------------------------------------------------------------------
// Redacted copies.

/** Per-rule counts, most replaced first (ties by name), for "token 9 · password 3". */
export function ruleCounts(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** A redacted copy's file name from the export name: `x.zip` → `x-redacted.zip`. */
export function redactedName(exportName: string): string {
  return exportName.replace(/(\.zip)?$/i, "-redacted.zip");
}

// ---------------------------------------------------------------------------
// The Library's view: the snapshot list or the triage board.

export type LibraryMode = "snapshots" | "triage";

export interface InsightView {
  mode: LibraryMode;
  scope: Scope;
}

const views = new WeakMap<object, InsightView>();

/** The view and triage scope of a backend's Library section; they survive a section switch. */
export function insightViewFor(backend: object): InsightView {
  let v = views.get(backend);
  if (!v) views.set(backend, (v = { mode: "snapshots", scope: { ...WHOLE_LIBRARY } }));
  return v;
}
