import { afterEach, describe, expect, it, vi } from "vitest";

const invokeMock = vi.hoisted(() => vi.fn());
const channels = vi.hoisted(() => [] as { onmessage: ((m: unknown) => void) | null }[]);
vi.mock("@tauri-apps/api/core", () => ({
  invoke: invokeMock,
  Channel: class {
    onmessage: ((m: unknown) => void) | null = null;
    constructor() {
      channels.push(this);
    }
  },
}));

import { createFakeBackend, createTauriBackend, fakeOptionsFromQuery, type BackendError } from "./index";
import type { RemoteProgress } from "../bindings/RemoteProgress";

afterEach(() => {
  invokeMock.mockReset();
  channels.length = 0;
});

const T0 = Date.parse("2026-06-30T12:00:00Z");
const DEP = "611298765432109056";

describe("tauri backend: connections and remote snapshots", () => {
  it("calls each command with camelCase arguments", async () => {
    const b = createTauriBackend();
    const draft = { name: "a", previous: null, label: "", url: "https://s", deployments: ["1"], key: "k", session_only: false };
    const cases: [() => Promise<unknown>, string, unknown][] = [
      [() => b.connectionsList(), "connections_list", undefined],
      [() => b.connectionSave(draft), "connection_save", { draft }],
      [() => b.connectionTest("a", null), "connection_test", { name: "a", deployment: null }],
      [() => b.connectionRemove("a"), "connection_remove", { name: "a" }],
      [() => b.demoStart(), "demo_start", undefined],
      [() => b.deploymentSnapshots("a", DEP), "deployment_snapshots", { connection: "a", deployment: DEP }],
      [() => b.snapshotDelete("a", DEP, ["9007199254740993"], true), "snapshot_delete", { connection: "a", deployment: DEP, ids: ["9007199254740993"], alsoLibrary: true }],
      [() => b.requestCurl("a", DEP, { kind: "list" }), "request_curl", { connection: "a", deployment: DEP, request: { kind: "list" } }],
    ];
    for (const [run, command, args] of cases) {
      invokeMock.mockResolvedValueOnce({ ok: command });
      await expect(run()).resolves.toEqual({ ok: command });
      expect(invokeMock).toHaveBeenLastCalledWith(command, args);
    }
  });

  it("gives create and download their own progress channel", async () => {
    const b = createTauriBackend();
    const seen: RemoteProgress[] = [];
    invokeMock.mockResolvedValueOnce({ name: "s" });
    await b.snapshotCreate("a", DEP, true, false, "job-1", (p) => seen.push(p));
    const [command, args] = invokeMock.mock.calls[0];
    expect(command).toBe("snapshot_create");
    expect(args).toMatchObject({ connection: "a", deployment: DEP, redactSecrets: true, includeIggy: false, job: "job-1" });
    expect(args.onProgress).toBe(channels[0]);
    channels[0].onmessage?.({ kind: "created", name: "s", nodes: 3, request_id: null });

    invokeMock.mockResolvedValueOnce({ snapshot: "s", nodes: [] });
    await b.snapshotDownload("a", DEP, ["1", "2"], "job-2", (p) => seen.push(p));
    expect(invokeMock.mock.calls[1][0]).toBe("snapshot_download");
    expect(invokeMock.mock.calls[1][1]).toMatchObject({ connection: "a", deployment: DEP, ids: ["1", "2"], job: "job-2" });
    expect(invokeMock.mock.calls[1][1].onProgress).toBe(channels[1]);
    channels[1].onmessage?.({ kind: "transfer", snapshot_id: "1", downloaded: 5, total: null });
    expect(seen.map((p) => p.kind)).toEqual(["created", "transfer"]);
  });

  it("rejects with the AppError, details and all", async () => {
    const err = { code: "conflict", message: "busy", hint: "wait", details: { status: 409, request_id: "r1", in_progress: "s-1" } };
    invokeMock.mockRejectedValueOnce(err);
    await expect(createTauriBackend().snapshotCreate("a", DEP, true, true, "j", () => {})).rejects.toMatchObject({ code: "conflict", appError: err });
  });
});

describe("fake Supervisor", () => {
  function fake(extra: Parameters<typeof createFakeBackend>[0] = {}, clock = { t: T0 }) {
    const backend = createFakeBackend({
      remote: {
        now: () => clock.t,
        connections: [{ name: "acme", url: "https://s.example", deployments: [{ id: DEP, name: "prod", nodes: 4, plan: "pro" }] }],
        transferMs: 30,
        archiveBytes: 600_000,
        ...extra.remote,
      },
      ...extra,
    });
    return { backend, clock };
  }

  it("starts with no connection, and the demo is one labelled connection however often it is started", async () => {
    const b = createFakeBackend();
    expect((await b.connectionsList()).items).toEqual([]);
    const demo = await b.demoStart();
    expect(demo).toMatchObject({ name: "demo", demo: true, key: "session", url: "http://127.0.0.1:8787" });
    await b.demoStart();
    const list = await b.connectionsList();
    expect(list.items.map((c) => c.name)).toEqual(["demo"]);
    expect(list.keyring.available).toBe(true);
    const removed = await b.connectionRemove("demo");
    expect(removed).toEqual({ name: "demo", key_error: null });
    expect((await b.connectionsList()).items).toEqual([]);
  });

  it("completes node i of n at created + 3 s·i/n, one group per snapshot name", async () => {
    const { backend, clock } = fake();
    const progress: RemoteProgress[] = [];
    const waited = backend.snapshotCreate("acme", DEP, true, true, "job-1", (p) => progress.push(p));
    await vi.waitFor(() => expect(progress[0]?.kind).toBe("created"));
    const view = async () => (await backend.deploymentSnapshots("acme", DEP)).snapshots[0];
    expect((await view()).state).toBe("processing");
    clock.t = T0 + 1500; // 3 s · 2/4
    let g = await view();
    expect(g.nodes.map((n) => n.status)).toEqual(["completed", "completed", "processing", "processing"]);
    expect(g.completed).toBe(2);
    expect(g.completed_at).toBeNull();
    clock.t = T0 + 3000;
    g = await view();
    expect(g).toMatchObject({ state: "completed", completed: 4, completed_at: "2026-06-30T12:00:03.000Z", expires_at: "2026-07-30T12:00:00.000Z" });
    const done = await waited;
    expect(done).toMatchObject({ name: "snapshot-20260630-120000", state: "completed", end: "completed" });
    expect(done.items).toHaveLength(4);
    expect(progress.at(-1)).toEqual({ kind: "waiting", name: "snapshot-20260630-120000", completed: 4, failed: 0, total: 4 });
  });

  it("refuses a second create while one processes with a 409 naming it", async () => {
    const { backend } = fake();
    const first = backend.snapshotCreate("acme", DEP, true, true, "job-1", () => {}).catch((e: BackendError) => e);
    const err = (await backend.snapshotCreate("acme", DEP, true, true, "job-2", () => {}).catch((e) => e)) as BackendError;
    expect(err.code).toBe("conflict");
    expect(err.details).toMatchObject({ status: 409, in_progress: "snapshot-20260630-120000" });
    expect((err.details as { request_id: string }).request_id).toMatch(/^req_/);
    await backend.cancelJob("job-1");
    expect(await first).toMatchObject({ code: "cancelled" });
  });

  it("lets a read-only key list and download but not create or delete (403 forbidden)", async () => {
    const { backend } = fake({ remote: { connections: [{ name: "ro", url: "https://s", manage: false, deployments: [{ id: DEP, name: "p", snapshots: 1 }] }] } });
    const v = await backend.deploymentSnapshots("ro", DEP);
    expect(v.permissions).toEqual({ "deployment:read": true, "deployment:manage": false });
    const create = (await backend.snapshotCreate("ro", DEP, true, true, "j", () => {}).catch((e) => e)) as BackendError;
    expect(create.code).toBe("forbidden");
    expect(create.details).toMatchObject({ status: 403 });
    const del = (await backend.snapshotDelete("ro", DEP, [v.snapshots[0].nodes[0].id], false).catch((e) => e)) as BackendError;
    expect(del.code).toBe("forbidden");
    const got = await backend.snapshotDownload("ro", DEP, [v.snapshots[0].nodes[0].id], "d", () => {});
    expect(got.nodes[0].ok).toBe(true);
  });

  it("says an unreachable Supervisor is a network error", async () => {
    const { backend } = fake({ remote: { connections: [{ name: "x", url: "https://s", unreachable: true, deployments: [{ id: DEP, name: "p" }] }] } });
    await expect(backend.deploymentSnapshots("x", DEP)).rejects.toMatchObject({ code: "network" });
    await expect(backend.connectionTest("x", null)).rejects.toMatchObject({ code: "network" });
  });

  it("downloads with progress into the library, cancels keeping the part, and resumes", async () => {
    const { backend } = fake({ remote: { connections: [{ name: "acme", url: "https://s", deployments: [{ id: DEP, name: "p", nodes: 2, snapshots: 1 }] }] } });
    const ids = (await backend.deploymentSnapshots("acme", DEP)).snapshots[0].nodes.map((n) => n.id);
    const events: RemoteProgress[] = [];
    const first = backend.snapshotDownload("acme", DEP, ids, "dl-1", (p) => events.push(p));
    await vi.waitFor(() => expect(events.filter((e) => e.kind === "transfer").length).toBeGreaterThan(2));
    await backend.cancelJob("dl-1");
    const cancelled = await first;
    expect(cancelled.nodes).toHaveLength(1);
    expect(cancelled.nodes[0]).toMatchObject({ ok: false, error: { code: "cancelled" } });
    expect(events[0]).toMatchObject({ kind: "node_started", snapshot_id: ids[0], index: 1, count: 2 });

    const again: RemoteProgress[] = [];
    const done = await backend.snapshotDownload("acme", DEP, ids, "dl-2", (p) => again.push(p));
    expect(done.nodes.map((n) => n.ok)).toEqual([true, true]);
    expect(done.nodes[0].resumed_from).toBeGreaterThan(0);
    expect(done.nodes[1].resumed_from).toBeNull();
    expect(again.filter((e) => e.kind === "node_finished")).toEqual([
      { kind: "node_finished", snapshot_id: ids[0], ok: true },
      { kind: "node_finished", snapshot_id: ids[1], ok: true },
    ]);
    const view = await backend.deploymentSnapshots("acme", DEP);
    expect(view.snapshots[0].nodes.map((n) => n.library?.entry)).toEqual(done.nodes.map((n) => n.entry));
    const lib = await backend.libraryBrowse(`deployment:${DEP}`, "created", 0, 10);
    expect(lib.total).toBe(2);
  });

  it("deletes server copies and, when asked, the library's", async () => {
    const { backend } = fake({ remote: { connections: [{ name: "acme", url: "https://s", deployments: [{ id: DEP, name: "p", nodes: 2, snapshots: 1, inLibrary: 1 }] }] } });
    const nodes = (await backend.deploymentSnapshots("acme", DEP)).snapshots[0].nodes;
    const keep = await backend.snapshotDelete("acme", DEP, [nodes[0].id], false);
    expect(keep).toEqual({ deleted: [nodes[0].id], failed: [], library_removed: [] });
    const drop = await backend.snapshotDelete("acme", DEP, [nodes[1].id, "1"], true);
    expect(drop.deleted).toEqual([nodes[1].id]);
    expect(drop.library_removed).toEqual([nodes[1].library!.entry]);
    expect(drop.failed[0]).toMatchObject({ snapshot_id: "1", error: { code: "not_found" } });
    expect((await backend.deploymentSnapshots("acme", DEP)).snapshots).toEqual([]);
  });

  it("writes requests as curl with the key as $LD_API_KEY", async () => {
    const { backend } = fake();
    const list = await backend.requestCurl("acme", DEP, { kind: "list" });
    expect(list).toContain(`https://s.example/deployments/${DEP}/snapshots`);
    expect(list).toContain('-H "ld-api-key: $LD_API_KEY"');
    expect(await backend.requestCurl("acme", DEP, { kind: "create", redact_secrets: false, include_iggy: true })).toContain(
      `-d '{"redact_secrets":false,"include_iggy":true}'`,
    );
    expect(await backend.requestCurl("acme", DEP, { kind: "delete", id: "9007199254740993" })).toMatch(/-X DELETE .*\/snapshots\/9007199254740993/s);
    expect(await backend.requestCurl("acme", DEP, { kind: "download", id: "9007199254740993" })).toContain("/snapshots/9007199254740993/download");
  });

  it("saves the key once and never returns it", async () => {
    const b = createFakeBackend();
    const saved = await b.connectionSave({
      name: "acme",
      previous: null,
      label: "",
      url: "https://s.example/",
      deployments: ["611298765432109056=prod", "7"],
      key: "ld_read_only_key",
      session_only: false,
    });
    expect(saved).toEqual({
      name: "acme",
      label: "",
      url: "https://s.example",
      current: true,
      deployments: [
        { id: "611298765432109056", name: "prod" },
        { id: "7", name: "" },
      ],
      key: "keyring",
      demo: false,
    });
    expect(JSON.stringify(await b.connectionsList())).not.toContain("ld_read_only_key");
    // The fake's Supervisor treats a key saying "read" as read-only.
    const test = await b.connectionTest("acme", null);
    expect(test).toMatchObject({ context: "acme", deployment: "611298765432109056", permissions: { "deployment:read": true, "deployment:manage": false } });
  });

  it("has browser preview modes", () => {
    expect(fakeOptionsFromQuery("?fake=demo-first-run").remote?.connections).toEqual([]);
    const big = fakeOptionsFromQuery("?fake=deployments").remote?.connections?.[0].deployments[0];
    expect(big).toMatchObject({ nodes: 1000, snapshots: 20 });
    expect(fakeOptionsFromQuery("?fake=connections").remote?.connections?.map((c) => c.name)).toEqual(["acme-prod", "globex", "initech"]);
  });
});
