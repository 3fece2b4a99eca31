/** Pure logic of the sandboxed report viewer. */

/** Posted by a report page once it has rendered: `{ type, checks }`. */
export const READY_MESSAGE_TYPE = "snapdesk-report-ready";

/** How long the frame may take to load before the viewer shows an error. */
export const LOAD_TIMEOUT_MS = 15_000;

export interface ReadyMessage {
  checks: number;
}

export interface MessageLike {
  source: unknown;
  data: unknown;
}

/**
 * Validate a `message` event from the report frame. The frame is sandboxed
 * without allow-same-origin, so its origin is the opaque "null": the only
 * trustworthy check is that the event came from that frame's window. Only
 * `type` and a numeric `checks` are read; everything else is ignored.
 */
export function parseReadyMessage(event: MessageLike, frameWindow: unknown): ReadyMessage | null {
  if (frameWindow == null || event.source !== frameWindow) return null;
  const data = event.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { type, checks } = data as { type?: unknown; checks?: unknown };
  if (type !== READY_MESSAGE_TYPE) return null;
  if (typeof checks !== "number" || !Number.isInteger(checks) || checks < 0) return null;
  return { checks };
}
