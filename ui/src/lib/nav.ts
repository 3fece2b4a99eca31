/** Sections of the shell and the pure keyboard logic that drives them. */

export const SECTIONS = ["deployments", "library", "collect", "settings"] as const;
export type SectionId = (typeof SECTIONS)[number];

export interface SectionMeta {
  id: SectionId;
  label: string;
  /** One line shown under the section title. */
  summary: string;
}

export const SECTION_META: Record<SectionId, SectionMeta> = {
  deployments: {
    id: "deployments",
    label: "Deployments",
    summary: "Iggy deployments reachable through a Supervisor connection.",
  },
  library: {
    id: "library",
    label: "Library",
    summary: "Snapshots downloaded or opened on this machine.",
  },
  collect: {
    id: "collect",
    label: "Collect",
    summary: "Take a diagnostic snapshot of this machine.",
  },
  settings: {
    id: "settings",
    label: "Settings",
    summary: "Connections, version, platform and where Snapdesk keeps its files.",
  },
};

export const DEFAULT_SECTION: SectionId = "deployments";

export function isSection(x: unknown): x is SectionId {
  return typeof x === "string" && (SECTIONS as readonly string[]).includes(x);
}

/** Parse a section name (e.g. from `?section=`); unknown names give null. */
export function parseSection(x: string | null | undefined): SectionId | null {
  const v = x?.trim().toLowerCase();
  return isSection(v) ? v : null;
}

/** macOS uses Cmd where other platforms use Ctrl. */
export function isMacPlatform(platform: string): boolean {
  return /mac|iphone|ipad|ipod/i.test(platform);
}

/** Label of the shortcut for the section at `index` (0-based): "Ctrl 1" or "⌘1". */
export function shortcutLabel(index: number, mac: boolean): string {
  return mac ? `⌘${index + 1}` : `Ctrl ${index + 1}`;
}

export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/**
 * The section a global shortcut selects: Ctrl+1..4 (Cmd+1..4 on macOS; Ctrl
 * is accepted on macOS too). Uses `code` as well as `key` so layouts where the
 * digit row needs Shift (AZERTY) work. Returns null for anything else.
 */
export function sectionForShortcut(e: KeyLike, mac: boolean): SectionId | null {
  if (e.altKey || e.shiftKey) return null;
  const modifier = mac ? e.metaKey || e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (!modifier) return null;
  let digit = /^[1-9]$/.test(e.key) ? Number(e.key) : NaN;
  if (Number.isNaN(digit) && e.code) {
    const m = /^(?:Digit|Numpad)([1-9])$/.exec(e.code);
    if (m) digit = Number(m[1]);
  }
  if (Number.isNaN(digit) || digit > SECTIONS.length) return null;
  return SECTIONS[digit - 1];
}

/**
 * Roving-focus movement in a vertical list of `count` items: ArrowUp/ArrowDown
 * wrap around, Home/End jump to the ends. Returns the new index, or null when
 * the key does not move focus.
 */
export function moveIndex(current: number, key: string, count: number): number | null {
  if (count <= 0) return null;
  const from = Math.min(Math.max(current, 0), count - 1);
  switch (key) {
    case "ArrowDown":
      return (from + 1) % count;
    case "ArrowUp":
      return (from - 1 + count) % count;
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

/** Keys that activate the focused item. */
export function isActivationKey(key: string): boolean {
  return key === "Enter" || key === " " || key === "Spacebar";
}
