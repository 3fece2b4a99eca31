import { describe, expect, it, vi } from "vitest";
import { get, writable } from "svelte/store";
import { createFakeBackend } from "./backend";
import type { Backend } from "./backend";
import type { ApiRequest } from "./bindings/ApiRequest";
import type { RemoteProgress } from "./bindings/RemoteProgress";
import type { SnapshotGroup } from "./bindings/SnapshotGroup";
import { createJobsStore } from "./jobs";
import {
  clock,
  connectionLabel,
  deploymentLabel,
  deploymentLineError,
  deploymentsText,
  expiresLabel,
  formatSeconds,
  flattenRows,
  inProgressOf,
  isUnreachable,
  libraryCount,
  parseDeploymentsText,
  requestIdOf,
  runCreate,
  runDownload,
  createTransfers,
  curlCommands,
} from "./remote";
import * as remote from "./remote";

const NOW = Date.parse("2026-06-30T12:00:00Z");

function group(name: string, n: number): SnapshotGroup {
  return {
    name,
    created_at: "2026-06-30T11:00:00Z",
    completed_at: "2026-06-30T11:01:00Z",
    state: "completed",
    completed: n,
    failed: 0,
    expires_at: null,
    nodes: Array.from({ length: n }, (_, i) => ({
      id: `${name}-${i}`,
      node_id: String(i),
      status: "completed",
      created_at: "2026-06-30T11:00:00Z",
      completed_at: "2026-06-30T11:01:00Z",
      library: i === 0 ? { entry: "9", evicted: false } : i === 1 ? { entry: "8", evicted: true } : null,
    })),
  };
}

describe("connection helpers", () => {
  it("reads deployments one per line or comma separated, and writes them back as ID=NAME lines", () => {
    expect(parseDeploymentsText(" 611298765432109056=events-prod,611298765432109057\n\n  7 , ")).toEqual([
      "611298765432109056=events-prod",
      "611298765432109057",
      "7",
    ]);
    expect(deploymentsText([{ id: "1", name: "a" }, { id: "2", name: " " }])).toBe("1=a\n2");
    expect(deploymentLineError("611298765432109056=x")).toBeNull();
    expect(deploymentLineError("prod")).toContain("must be digits");
  });

  it("names the demo as a demo, and deployments by their name, the API's, or their id", () => {
    expect(connectionLabel({ name: "demo", label: "", demo: true })).toBe("Demo (local emulator)");
    expect(connectionLabel({ name: "acme", label: "", demo: false })).toBe("acme");
    expect(connectionLabel({ name: "acme", label: "ACME", demo: false })).toBe("ACME");
    const view = { deployment: "7", deployment_name: "events-prod" };
    expect(deploymentLabel({ id: "7", name: "mine" }, view)).toBe("mine");
    expect(deploymentLabel({ id: "7", name: "" }, view)).toBe("events-prod");
    expect(deploymentLabel({ id: "8", name: "" }, view)).toBe("8");
  });

  it("reads the request id, the HTTP status and the snapshot in progress from an error", () => {
    const e = { code: "conflict" as const, message: "m", hint: null, details: { status: 409, request_id: "req_1", in_progress: "s-1" } };
    expect(requestIdOf(e)).toBe("req_1");
    expect(inProgressOf(e)).toBe("s-1");
    expect(requestIdOf({ ...e, details: null })).toBeNull();
    expect(isUnreachable({ ...e, code: "network" })).toBe(true);
    expect(isUnreachable({ ...e, code: "timeout" })).toBe(true);
    expect(isUnreachable(e)).toBe(false);
  });
});

describe("times", () => {
  it("shows elapsed time as a clock and retention as a countdown", () => {
    expect(clock(42_000)).toBe("0:42");
    expect(clock(12 * 60_000 + 3_000)).toBe("12:03");
    expect(clock(3_723_000)).toBe("1:02:03");
    expect(expiresLabel("2026-07-04T13:00:00Z", NOW)).toBe("expires in 4 d");
    expect(expiresLabel("2026-06-30T17:30:00Z", NOW)).toBe("expires in 5 h");
    expect(expiresLabel("2026-06-28T12:00:00Z", NOW)).toBe("expired 2 d ago");
    expect(expiresLabel(null, NOW)).toBeNull();
  });
});

describe("durations", () => {
  it("formats seconds as formatSeconds, apart from insight's formatDuration (milliseconds)", () => {
    expect(formatSeconds(11.2)).toBe("12 s");
    expect(formatSeconds(185)).toBe("3 min");
    expect(formatSeconds(3_900)).toBe("1 h 5 min");
    expect(formatSeconds(-1)).toBe("—");
    // One name, one unit: the seconds one is not called formatDuration, and the rate and
    // time-left helpers stay inside the download code.
    expect(Object.keys(remote)).not.toContain("formatDuration");
    expect(Object.keys(remote)).not.toContain("formatRate");
    expect(Object.keys(remote)).not.toContain("timeLeft");
  });
});

describe("rows", () => {
  it("puts a snapshot's nodes under it only when it is expanded", () => {
    const gs = [group("a", 3), group("b", 2)];
    expect(flattenRows(gs, new Set()).map((r) => r.key)).toEqual(["g:a", "g:b"]);
    expect(flattenRows(gs, new Set(["b"])).map((r) => r.key)).toEqual(["g:a", "g:b", "n:b-0", "n:b-1"]);
    const rows = flattenRows(gs, new Set(["a"]));
    expect(rows.filter((r) => r.kind === "node" && r.last).map((r) => r.key)).toEqual(["n:a-2"]);
    expect(libraryCount(gs[0])).toEqual({ held: 1, evicted: 1 });
  });
});

describe("curlCommands", () => {
  const curlOf = (template: (id: string) => string) => {
    const asked: string[] = [];
    const backend = {
      requestCurl: async (_c: string, _d: string, r: ApiRequest) => {
        const what = r.kind === "download" || r.kind === "delete" ? r.id : r.kind;
        asked.push(what);
        return template(what);
      },
    } as unknown as Backend;
    return { backend, asked };
  };
  const downloads = (...ids: string[]): ApiRequest[] => ids.map((id) => ({ kind: "download", id }));

  it("asks once for a snapshot's downloads and writes the others with their ids", async () => {
    const { backend, asked } = curlOf((id) => `curl \\\n  https://s.example/deployments/7/snapshots/${id}/download \\\n  -H "k"`);
    const out = await curlCommands(backend, "a", "7", downloads("9007199254740993", "9007199254740994", "12"));
    expect(asked).toEqual(["9007199254740993"]);
    expect(out).toEqual(["9007199254740993", "9007199254740994", "12"].map((id) => `curl \\\n  https://s.example/deployments/7/snapshots/${id}/download \\\n  -H "k"`));
  });

  it("does the same for deletes", async () => {
    const { backend, asked } = curlOf((id) => `curl \\\n  -X DELETE \\\n  https://s.example/deployments/7/snapshots/${id} \\\n  -H "k"`);
    const out = await curlCommands(backend, "a", "7", [
      { kind: "delete", id: "12" },
      { kind: "delete", id: "123" },
    ]);
    expect(asked).toEqual(["12"]);
    expect(out[1]).toBe(`curl \\\n  -X DELETE \\\n  https://s.example/deployments/7/snapshots/123 \\\n  -H "k"`);
  });

  it("asks for each when the command is not the shape expected, an id is not as Rust writes it, or kinds mix", async () => {
    const odd = curlOf((id) => `fetch ${id}`);
    expect(await curlCommands(odd.backend, "a", "7", downloads("1", "2"))).toEqual(["fetch 1", "fetch 2"]);
    expect(odd.asked).toEqual(["1", "2"]);
    const bad = curlOf((id) => `curl /snapshots/${id}/download`);
    await curlCommands(bad.backend, "a", "7", downloads("1", "x y", "007"));
    expect(bad.asked).toEqual(["1", "x y", "007"]);
    const mixed = curlOf((id) => `curl /snapshots/${id}/download`);
    await curlCommands(mixed.backend, "a", "7", [...downloads("1"), { kind: "delete", id: "2" }]);
    expect(mixed.asked).toEqual(["1", "2"]);
  });
});

describe("runCreate", () => {
  it("follows created and waiting events as a job and bumps the changes", async () => {
    const events: RemoteProgress[] = [
      { kind: "created", name: "s-1", nodes: 3, request_id: "req_1" },
      { kind: "waiting", name: "s-1", completed: 1, failed: 0, total: 3 },
    ];
    const seen: (string | null)[] = [];
    const jobs = createJobsStore();
    const backend = {
      snapshotCreate: vi.fn(async (_c, _d, _r, _i, _job, on: (p: RemoteProgress) => void) => {
        for (const e of events) {
          on(e);
          seen.push(jobs.snapshot()[0].detail);
        }
        return { name: "s-1", created_at: "x", state: "completed", items: [], end: "completed" };
      }),
      cancelJob: vi.fn(async () => {}),
    } as unknown as Backend;
    const changes = writable(0);
    const created = vi.fn();
    const out = await runCreate(backend, jobs, { connection: "c", deployment: "7", deploymentName: "prod" }, {
      redactSecrets: true,
      includeIggy: false,
      oncreated: created,
      changes,
    });
    expect(out.kind).toBe("done");
    expect(created).toHaveBeenCalledWith("s-1");
    expect(seen).toEqual(["s-1 · 3 nodes processing", "s-1 · 1 of 3 nodes completed"]);
    expect(jobs.snapshot()[0]).toMatchObject({ label: "Creating a snapshot of prod", status: "succeeded" });
    expect(get(changes)).toBe(2);
  });

  it("turns a 409 into a conflict naming the snapshot in progress", async () => {
    const backend = createFakeBackend({
      remote: {
        now: () => NOW,
        processingMs: 60_000,
        connections: [{ name: "c", url: "https://s.example", deployments: [{ id: "7", name: "p", processing: true }] }],
      },
    });
    const jobs = createJobsStore();
    const out = await runCreate(backend, jobs, { connection: "c", deployment: "7", deploymentName: "p" }, { redactSecrets: true, includeIggy: true });
    expect(out.kind).toBe("conflict");
    if (out.kind !== "conflict") return;
    expect(out.inProgress).toBe("snapshot-20260630-115955");
    expect(out.error.code).toBe("conflict");
    expect(requestIdOf(out.error)).toMatch(/^req_/);
    expect(jobs.snapshot()[0].status).toBe("failed");
  });
});

describe("runDownload", () => {
  function stub(result: "cancelled-result" | "rejects") {
    return {
      cancelJob: vi.fn(async () => {}),
      snapshotDownload: vi.fn(async (_c, _d, ids: string[], _job, on: (p: RemoteProgress) => void) => {
        on({ kind: "node_started", snapshot_id: ids[0], node_id: "11", index: 1, count: 2, path: "/p" });
        on({ kind: "transfer", snapshot_id: ids[0], downloaded: 1000, total: 4000 });
        on({ kind: "transfer", snapshot_id: ids[0], downloaded: 2500, total: 4000 });
        on({ kind: "node_finished", snapshot_id: ids[0], ok: false });
        if (result === "rejects") throw { code: "cancelled", message: "cancelled", hint: null, details: null };
        return {
          snapshot: "s",
          nodes: [
            {
              snapshot_id: ids[0],
              node_id: "11",
              ok: false,
              entry: null,
              bytes: null,
              resumed_from: null,
              error: { code: "cancelled", message: "cancelled: 2500 bytes kept", hint: null, details: null },
            },
          ],
        };
      }),
    } as unknown as Backend;
  }

  for (const how of ["cancelled-result", "rejects"] as const) {
    it(`keeps what was fetched after a cancel (${how}) so the next download resumes`, async () => {
      const jobs = createJobsStore();
      const store = createTransfers();
      let t = 0;
      const out = await runDownload(
        stub(how),
        jobs,
        store,
        { connection: "c", deployment: "7", deploymentName: "p" },
        [
          { id: "100", node_id: "11" },
          { id: "101", node_id: "12" },
        ],
        { label: "s · 2 nodes", now: () => (t += 500) },
      );
      expect(out.kind).toBe(how === "rejects" ? "cancelled" : "done");
      const s = store.snapshot();
      expect(s["100"]).toMatchObject({ state: "cancelled", partial: 2500 });
      expect(s["101"]).toMatchObject({ state: "cancelled", partial: null });
      expect(jobs.snapshot()[0].status).toBe("cancelled");
    });
  }

  it("describes bytes, rate, time left and the node in the job", async () => {
    const jobs = createJobsStore();
    const details: string[] = [];
    jobs.subscribe((list) => list[0]?.detail && details.push(list[0].detail));
    let t = 0;
    const backend = {
      cancelJob: vi.fn(async () => {}),
      snapshotDownload: vi.fn(async (_c, _d, ids: string[], _job, on: (p: RemoteProgress) => void) => {
        on({ kind: "node_started", snapshot_id: ids[0], node_id: "900719925474099301", index: 1, count: 1, path: "/p" });
        on({ kind: "transfer", snapshot_id: ids[0], downloaded: 0, total: 4_000_000 });
        on({ kind: "transfer", snapshot_id: ids[0], downloaded: 1_000_000, total: 4_000_000 });
        on({ kind: "node_finished", snapshot_id: ids[0], ok: true });
        return {
          snapshot: "s",
          nodes: [{ snapshot_id: ids[0], node_id: "900719925474099301", ok: true, entry: "42", bytes: 4_000_000, resumed_from: null, error: null }],
        };
      }),
    } as unknown as Backend;
    const store = createTransfers();
    await runDownload(backend, jobs, store, { connection: "c", deployment: "7", deploymentName: "p" }, [{ id: "100", node_id: "900719925474099301" }], {
      label: "s · node 900719925474099301",
      now: () => (t += 1000),
    });
    expect(details).toContain("node 1 of 1: 900719925474099301 · 1.0 MB of 4.0 MB · 333 kB/s · 9 s left");
    expect(store.snapshot()["100"]).toMatchObject({ state: "done", entry: "42" });
    expect(jobs.snapshot()[0].status).toBe("succeeded");
  });
});
