import { describe, expect, it } from "vitest";
import {
  changeCount,
  formatDuration,
  isChange,
  offsetRange,
  redactedName,
  ruleCounts,
  scopeFromKey,
  scopeKey,
  scopeLabel,
  triageState,
} from "./insight";

const p = (state: string) => ({ snapshot: "s", at: "2026-06-01T00:00:00Z", entry_id: null, state, detail: null });

describe("insight helpers", () => {
  it("round-trips scopes through select values", () => {
    for (const s of [
      { deployment: null, host: null },
      { deployment: "611298765432109056", host: null },
      { deployment: null, host: "iggy-dev-01" },
    ]) {
      expect(scopeFromKey(scopeKey(s))).toEqual(s);
    }
    const scopes = { deployments: [{ id: "1", name: "iggy-prod", snapshots: 3 }], hosts: [] };
    expect(scopeLabel({ deployment: "1", host: null }, scopes)).toBe("deployment iggy-prod");
    expect(scopeLabel({ deployment: null, host: "h" })).toBe("host h");
    expect(scopeLabel({ deployment: null, host: null })).toBe("the whole library");
  });

  it("names triage states in words", () => {
    expect(triageState("not_collected").label).toBe("not collected");
    expect(triageState("resolved").tone).toBe("pass");
  });

  it("finds changes: a state unlike the one before, never the first", () => {
    const pts = [p("pass"), p("pass"), p("fail"), p("not_collected"), p("not_collected"), p("pass")];
    expect(pts.map((_, i) => isChange(pts, i))).toEqual([false, false, true, true, false, true]);
    expect(changeCount(pts)).toBe(3);
  });

  it("formats lag in time and offset ranges", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(9_100)).toBe("9.1 s");
    expect(formatDuration(372_000)).toBe("6 min 12 s");
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 5_000)).toBe("2 d 4 h");
    expect(offsetRange(48800, 49999)).toBe("48,800..49,999");
    expect(offsetRange(7, 7)).toBe("7");
    expect(offsetRange(null, null)).toBe("");
  });

  it("orders redaction counts and names the copy", () => {
    expect(ruleCounts({ token: 2, password: 9, jwt: 2, none: 0 })).toEqual([
      ["password", 9],
      ["jwt", 2],
      ["token", 2],
    ]);
    expect(redactedName("snapshot-1-node-2.zip")).toBe("snapshot-1-node-2-redacted.zip");
    expect(redactedName("x")).toBe("x-redacted.zip");
  });
});
