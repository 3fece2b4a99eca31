/**
 * Pure logic of the sandboxed report viewer.
 *
 * Nothing the frame says is trusted: the header shows what the Rust side
 * counted and verified when it opened the archive, and messages the report
 * posts to its parent are ignored (a security review changed the header's
 * count with one `postMessage`), but for one: `{type: "snapdesk-link", url}`,
 * posted by the link bridge the viewer puts in every report page when a web
 * link is clicked. It only ever opens a question with the whole address.
 *
 * The viewer sends the frame one message: the app's theme (`themeMessage`), which the
 * link bridge applies to the page root, so a report follows the app's light or dark.
 */

import type { ArchiveSummary } from "./bindings/ArchiveSummary";
import type { StatusCounts } from "./bindings/StatusCounts";

/** How long the frame may take to load before the viewer shows an error. */
export const LOAD_TIMEOUT_MS = 15_000;

export function totalChecks(counts: StatusCounts | null): number | null {
  if (!counts) return null;
  return counts.pass + counts.warn + counts.fail + counts.info + counts.error + counts.skipped;
}

export type IntegrityLabel = { tone: "pass" | "fail" | "muted"; text: string; title: string };

/** What to say about the archive's integrity: established by Snapdesk at open. */
export function integrityLabel(s: ArchiveSummary): IntegrityLabel {
  const i = s.integrity;
  if (i.state === "verified") {
    return {
      tone: "pass",
      text: "verified",
      title: "Every entry matches the size and sha256 its manifest lists, checked by Snapdesk when it opened the archive",
    };
  }
  if (i.state === "mismatch") {
    const parts = [
      i.mismatched.length ? `differ from the manifest: ${i.mismatched.join(", ")}` : null,
      i.missing.length ? `listed but missing: ${i.missing.join(", ")}` : null,
      i.unlisted.length ? `not listed in the manifest: ${i.unlisted.join(", ")}` : null,
    ].filter((p): p is string => !!p);
    return {
      tone: "fail",
      text: "modified after collection",
      title: `This archive does not match its own manifest. Entries that ${parts.join("; entries ")}.`,
    };
  }
  return {
    tone: "muted",
    text: "unverified",
    title: "The archive has no manifest, so its contents cannot be checked against one",
  };
}

/** The web address in a link-bridge message, or null for anything else. */
export function linkFromMessage(data: unknown): string | null {
  if (typeof data !== "object" || data === null) return null;
  const d = data as Record<string, unknown>;
  if (d.type !== "snapdesk-link" || typeof d.url !== "string" || d.url.length > 8192) return null;
  return /^https?:\/\//i.test(d.url) ? d.url : null;
}

/** The message that tells a report page the app's theme (null: follow the system). */
export function themeMessage(root: HTMLElement): { type: "snapdesk-theme"; theme: "light" | "dark" | null } {
  const t = root.dataset.theme;
  return { type: "snapdesk-theme", theme: t === "light" || t === "dark" ? t : null };
}
