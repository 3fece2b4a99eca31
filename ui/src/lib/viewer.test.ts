import { describe, expect, it } from "vitest";
import { LOAD_TIMEOUT_MS, READY_MESSAGE_TYPE, parseReadyMessage } from "./viewer";

const frameWindow = { name: "frame" };
const ready = (data: unknown, source: unknown = frameWindow) => parseReadyMessage({ source, data }, frameWindow);

describe("parseReadyMessage", () => {
  it("accepts the ready message from the frame's window", () => {
    expect(ready({ type: READY_MESSAGE_TYPE, checks: 42 })).toEqual({ checks: 42 });
    expect(ready({ type: "snapdesk-report-ready", checks: 0 })).toEqual({ checks: 0 });
  });

  it("returns only the check count, nothing else from the message", () => {
    expect(ready({ type: READY_MESSAGE_TYPE, checks: 3, html: "<b>x</b>", url: "https://evil" })).toEqual({
      checks: 3,
    });
  });

  it("rejects messages from any other source", () => {
    const data = { type: READY_MESSAGE_TYPE, checks: 1 };
    expect(ready(data, { name: "other" })).toBeNull();
    expect(ready(data, null)).toBeNull();
    expect(parseReadyMessage({ source: undefined, data }, frameWindow)).toBeNull();
    // A frame without a window (not attached) matches nothing, not even a null source.
    expect(parseReadyMessage({ source: null, data }, null)).toBeNull();
    expect(parseReadyMessage({ source: undefined, data }, undefined)).toBeNull();
  });

  it("rejects the wrong shape", () => {
    for (const data of [
      null,
      undefined,
      "snapdesk-report-ready",
      42,
      [READY_MESSAGE_TYPE, 1],
      {},
      { type: "other", checks: 1 },
      { type: READY_MESSAGE_TYPE },
      { type: READY_MESSAGE_TYPE, checks: "12" },
      { type: READY_MESSAGE_TYPE, checks: -1 },
      { type: READY_MESSAGE_TYPE, checks: 1.5 },
      { type: READY_MESSAGE_TYPE, checks: Number.NaN },
      { type: READY_MESSAGE_TYPE, checks: Number.POSITIVE_INFINITY },
    ]) {
      expect(ready(data), JSON.stringify(data)).toBeNull();
    }
  });

  it("gives the frame 15 s", () => {
    expect(LOAD_TIMEOUT_MS).toBe(15_000);
  });
});
