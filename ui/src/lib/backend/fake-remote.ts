/**
 * The fake backend's Supervisor: connections (the CLI's contexts, and the demo), a keyring
 * that may be missing, deployments whose snapshots go processing → completed over time,
 * downloads with progress into the fake library (cancellable, resumable), deletes, and
 * "Copy as curl". In memory; the Rust side is the reference for every answer.
 */
import type { ApiRequest } from "../bindings/ApiRequest";
import type { AppError } from "../bindings/AppError";
import type { Connection } from "../bindings/Connection";
import type { ConnectionDraft } from "../bindings/ConnectionDraft";
import type { Connections } from "../bindings/Connections";
import type { ContextRemoved } from "../bindings/ContextRemoved";
import type { ContextTest } from "../bindings/ContextTest";
import type { DeploymentView } from "../bindings/DeploymentView";
import type { Downloaded } from "../bindings/Downloaded";
import type { Entry } from "../bindings/Entry";
import type { KeyState } from "../bindings/KeyState";
import type { KeyringInfo } from "../bindings/KeyringInfo";
import type { KnownDeployment } from "../bindings/KnownDeployment";
import type { NodeDownload } from "../bindings/NodeDownload";
import type { Plan } from "../bindings/Plan";
import type { RemoteProgress } from "../bindings/RemoteProgress";
import type { SnapshotGroup } from "../bindings/SnapshotGroup";
import type { SnapshotItem } from "../bindings/SnapshotItem";
import type { SnapshotsDeleted } from "../bindings/SnapshotsDeleted";
import type { Waited } from "../bindings/Waited";
import { BackendError } from "./errors";

export interface FakeDeploymentSpec {
  id: string;
  name: string;
  plan?: Plan;
  /** Days a server copy is kept (from the plan); null when unknown. */
  retentionDays?: number | null;
  /** How many nodes (default 3). Node ids are long numbers, past 2^53. */
  nodes?: number;
  /** Completed snapshots to start with, the newest 20 min ago, then one every 6 h. */
  snapshots?: number;
  /** Nodes (1-based) whose archives fail on the server: in the seeded snapshot `failSnapshot` and in new ones. */
  failNodes?: number[];
  /** Which seeded snapshot (0 = newest) fails on `failNodes`; default 0. */
  failSnapshot?: number;
  /** One more snapshot, created 5 s ago and still processing (for `processingMs`). */
  processing?: boolean;
  /** How many of the seeded snapshots (newest first) are in the library; the newest one's first node is evicted. */
  inLibrary?: number;
}

export interface FakeConnectionSpec {
  name: string;
  label?: string;
  url: string;
  deployments: FakeDeploymentSpec[];
  key?: KeyState;
  /** Whether the key may manage; null: never probed. Default true. */
  manage?: boolean | null;
  /** The Supervisor refuses connections (`network`). */
  unreachable?: boolean;
  current?: boolean;
  demo?: boolean;
}

export interface FakeRemoteOptions {
  connections?: FakeConnectionSpec[];
  keyring?: KeyringInfo;
  /** How long a snapshot processes: node i of n completes at created + processingMs·i/n. Default 3000. */
  processingMs?: number;
  /** How long one node's archive takes to download. Default 800. */
  transferMs?: number;
  /** Size of a node's archive. Default 4.2 MB. */
  archiveBytes?: number;
  now?: () => number;
}

/** What the remote needs of the fake library. */
export interface FakeLibraryHooks {
  entries(): Entry[];
  /** Add an entry made of these fields; resolves with its id. */
  add(fields: Partial<Entry>): string;
  remove(id: string): void;
}

interface Conn {
  name: string;
  label: string;
  url: string;
  current: boolean;
  deployments: KnownDeployment[];
  key: KeyState;
  demo: boolean;
  manage: boolean | null;
  unreachable: boolean;
}

interface Item {
  id: string;
  node_id: string;
  name: string;
  created: number;
  doneAt: number;
  fails: boolean;
}

interface Dep {
  id: string;
  name: string;
  plan: Plan | null;
  retentionDays: number | null;
  nodes: string[];
  failNodes: Set<string>;
  items: Item[];
}

const DAY = 86_400_000;
/** Node and snapshot ids past 2^53: any `Number()` on the way to the screen shows. */
const NODE_BASE = 900_719_925_474_099_300n;
const ITEM_BASE = 7_300_000_000_000_000_000n;

export const DEMO_URL = "http://127.0.0.1:8787";
export const DEMO_DEPLOYMENT = "611298765432109056";

const KEYRING_OK: KeyringInfo = { available: true, message: null };

function stamp(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
}

/** A snapshot name like the Supervisor's: `snapshot-20260601-103000`. */
export function snapshotName(t: number): string {
  return `snapshot-${stamp(t)}`;
}

export interface FakeRemote {
  connectionsList(): Connections;
  connectionSave(draft: ConnectionDraft): Connection;
  connectionTest(name: string, deployment: string | null): ContextTest;
  connectionRemove(name: string): ContextRemoved;
  demoStart(): Connection;
  deploymentSnapshots(connection: string, deployment: string): DeploymentView;
  snapshotCreate(
    connection: string,
    deployment: string,
    redact: boolean,
    iggy: boolean,
    job: string,
    onProgress: (p: RemoteProgress) => void,
  ): Promise<Waited>;
  snapshotDownload(
    connection: string,
    deployment: string,
    ids: string[],
    job: string,
    onProgress: (p: RemoteProgress) => void,
  ): Promise<Downloaded>;
  snapshotDelete(connection: string, deployment: string, ids: string[], alsoLibrary: boolean): SnapshotsDeleted;
  requestCurl(connection: string, deployment: string, request: ApiRequest): string;
  /** Stop a create-wait or a download; false when no such job runs here. */
  cancel(job: string): boolean;
  /** Tests: make a connection's Supervisor unreachable (or reachable again). */
  setUnreachable(name: string, unreachable: boolean): void;
  /** Tests: the key stored for a connection (it never travels back through the API). */
  storedKey(name: string): string | null;
}

export function createFakeRemote(options: FakeRemoteOptions, library: FakeLibraryHooks): FakeRemote {
  const now = options.now ?? Date.now;
  const processingMs = options.processingMs ?? 3000;
  const transferMs = options.transferMs ?? 800;
  const archiveBytes = options.archiveBytes ?? 4_200_000;
  const keyring = options.keyring ?? KEYRING_OK;
  const conns: Conn[] = [];
  const keys = new Map<string, string>();
  const deps = new Map<string, Dep>();
  /** Snapshot item id → library entry id. */
  const copies = new Map<string, string>();
  /** Snapshot item id → bytes kept in its `.partial` after a cancelled download. */
  const partials = new Map<string, number>();
  const running = new Map<string, () => void>();
  let itemSeq = 0n;
  let requestSeq = 0;

  const requestId = () => `req_${(++requestSeq).toString(16).padStart(8, "0")}`;
  const iso = (t: number) => new Date(t).toISOString();

  function fail(code: AppError["code"], message: string, hint: string | null, details: unknown = null): never {
    throw new BackendError({ code, message, hint, details });
  }

  function apiFail(code: AppError["code"], status: number, message: string, hint: string | null, extra: object = {}): never {
    fail(code, message, hint, { status, request_id: requestId(), ...extra });
  }

  function conn(name: string): Conn {
    return (
      conns.find((c) => c.name === name) ??
      fail("not_found", `no connection named ${name}`, "Add it in Settings → Connections.")
    );
  }

  function reach(c: Conn) {
    if (c.unreachable) {
      fail(
        "network",
        `cannot reach the Supervisor at ${c.url}: connection refused`,
        "Check the URL and your network (VPN, proxy), then retry.",
        { url: c.url },
      );
    }
  }

  function depKey(c: Conn, id: string) {
    return `${c.url}|${id}`;
  }

  function makeDep(c: Conn, spec: FakeDeploymentSpec): Dep {
    const count = spec.nodes ?? 3;
    const nodes = Array.from({ length: count }, (_, i) => String(NODE_BASE + BigInt(i + 1)));
    const dep: Dep = {
      id: spec.id,
      name: spec.name,
      plan: spec.plan ?? null,
      retentionDays: spec.retentionDays === undefined ? (spec.plan ? 30 : null) : spec.retentionDays,
      nodes,
      failNodes: new Set((spec.failNodes ?? []).map((n) => nodes[n - 1]).filter(Boolean)),
      items: [],
    };
    deps.set(depKey(c, spec.id), dep);
    const t0 = now();
    for (let s = 0; s < (spec.snapshots ?? 0); s++) {
      const created = t0 - 20 * 60_000 - s * 6 * 3_600_000;
      const items = addItems(dep, created, snapshotName(created), 0, s === (spec.failSnapshot ?? 0));
      if (s < (spec.inLibrary ?? 0)) {
        items.forEach((it, i) => {
          if (it.fails) return;
          const evicted = s === 0 && i === 0 ? iso(t0 - DAY) : null;
          copies.set(it.id, library.add(entryFields(dep, it, { evicted_at: evicted, downloadable: !!evicted })));
        });
      }
    }
    if (spec.processing) {
      const created = t0 - 5_000;
      addItems(dep, created, snapshotName(created), processingMs + 5_000, true);
    }
    return dep;
  }

  function addItems(dep: Dep, created: number, name: string, duration: number, failing = true): Item[] {
    const n = dep.nodes.length;
    const items = dep.nodes.map((node_id, i) => ({
      id: String(ITEM_BASE + ++itemSeq),
      node_id,
      name,
      created,
      doneAt: created + Math.round((duration * (i + 1)) / n),
      fails: failing && dep.failNodes.has(node_id),
    }));
    dep.items.push(...items);
    return items;
  }

  function dep(c: Conn, id: string): Dep {
    const found = deps.get(depKey(c, id));
    if (found) return found;
    if (!c.deployments.some((d) => d.id === id)) {
      apiFail("not_found", 404, `deployment ${id} is not known to ${c.name}`, "Add it to the connection in Settings.");
    }
    // A deployment added in Settings exists on the fake Supervisor as soon as it is asked for.
    const known = c.deployments.find((d) => d.id === id)!;
    return makeDep(c, { id, name: known.name || `deployment-${id.slice(-4)}`, plan: known.plan, snapshots: 2 });
  }

  function status(it: Item, t: number): string {
    return t < it.doneAt ? "processing" : it.fails ? "failed" : "completed";
  }

  function apiItem(d: Dep, it: Item, t: number): SnapshotItem {
    return {
      id: it.id,
      tenant_id: null,
      division_id: null,
      environment_id: null,
      deployment_id: d.id,
      node_id: it.node_id,
      deployment_name: d.name,
      name: it.name,
      status: status(it, t),
      created_at: iso(it.created),
      completed_at: t < it.doneAt ? null : iso(it.doneAt),
    };
  }

  function entryFields(d: Dep, it: Item, over: Partial<Entry> = {}): Partial<Entry> {
    return {
      title: `Snapshot of ${d.name} node ${it.node_id}`,
      snapshot_name: it.name,
      deployment_id: d.id,
      deployment_name: d.name,
      node_id: it.node_id,
      host_name: `${d.name}-${it.node_id.slice(-2)}.internal`,
      created_at: iso(it.created),
      completed_at: iso(it.doneAt),
      added_at: iso(now()),
      expires_at: d.retentionDays === null ? null : iso(it.created + d.retentionDays * DAY),
      size: archiveBytes,
      ...over,
    };
  }

  function libraryCopy(it: Item) {
    const entry = copies.get(it.id);
    if (!entry) return null;
    const e = library.entries().find((x) => x.id === entry);
    if (!e) {
      copies.delete(it.id);
      return null;
    }
    return { entry, evicted: !!e.evicted_at };
  }

  function groups(d: Dep, t: number): SnapshotGroup[] {
    const byName = new Map<string, Item[]>();
    for (const it of d.items) {
      const list = byName.get(it.name);
      if (list) list.push(it);
      else byName.set(it.name, [it]);
    }
    const out: SnapshotGroup[] = [];
    for (const [name, items] of byName) {
      const created = Math.min(...items.map((i) => i.created));
      const processing = items.some((i) => t < i.doneAt);
      const failed = items.filter((i) => status(i, t) === "failed").length;
      const completed = items.filter((i) => status(i, t) === "completed").length;
      out.push({
        name,
        created_at: iso(created),
        completed_at: processing ? null : iso(Math.max(...items.map((i) => i.doneAt))),
        state: processing ? "processing" : failed > 0 ? "failed" : "completed",
        completed,
        failed,
        expires_at: d.retentionDays === null ? null : iso(created + d.retentionDays * DAY),
        nodes: items.map((it) => ({
          id: it.id,
          node_id: it.node_id,
          status: status(it, t),
          created_at: iso(it.created),
          completed_at: t < it.doneAt ? null : iso(it.doneAt),
          library: libraryCopy(it),
        })),
      });
    }
    return out.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  }

  function view(c: Conn): Connection {
    return {
      name: c.name,
      label: c.label,
      url: c.url,
      current: c.current,
      deployments: structuredClone(c.deployments),
      key: c.key,
      demo: c.demo,
    };
  }

  function manageOrFail(c: Conn, what: string) {
    if (c.manage === false) {
      apiFail(
        "forbidden",
        403,
        `the key of ${c.name} may not ${what}: it lacks deployment:manage`,
        "Use a key with the deployment:manage permission.",
      );
    }
  }

  function parseDeployment(line: string): KnownDeployment {
    const [id, ...rest] = line.split("=");
    const name = rest.join("=").trim();
    if (!/^\d+$/.test(id.trim())) {
      fail("invalid_input", `deployment id "${id.trim()}" is not a number`, "Give ID or ID=NAME, one per line.");
    }
    return { id: id.trim(), name };
  }

  function addConn(spec: FakeConnectionSpec) {
    const c: Conn = {
      name: spec.name,
      label: spec.label ?? "",
      url: spec.url,
      current: spec.current ?? conns.length === 0,
      deployments: spec.deployments.map((d) => ({ id: d.id, name: d.name, ...(d.plan ? { plan: d.plan } : {}) })),
      key: spec.key ?? "keyring",
      demo: spec.demo ?? false,
      manage: spec.manage === undefined ? true : spec.manage,
      unreachable: spec.unreachable ?? false,
    };
    conns.push(c);
    for (const d of spec.deployments) makeDep(c, d);
    return c;
  }

  for (const spec of options.connections ?? []) addConn(spec);

  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function cancelled(message: string, hint: string | null = null): BackendError {
    return new BackendError({ code: "cancelled", message, hint, details: null });
  }

  return {
    connectionsList: () => ({ items: conns.map(view), keyring: { ...keyring } }),

    connectionSave(draft) {
      const name = draft.name.trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
        fail("invalid_input", `"${draft.name}" is not a connection name`, "Use letters, digits, dots, dashes and underscores.");
      }
      if (!/^https?:\/\/[^\s/]+/.test(draft.url.trim())) {
        fail("invalid_input", `"${draft.url}" is not an http(s) URL`, "Give the Supervisor's URL, e.g. https://supervisor.example.com.");
      }
      if (draft.deployments.length === 0) {
        fail("invalid_input", "no deployment given", "Give at least one deployment id.");
      }
      const deployments = draft.deployments.map(parseDeployment);
      const previous = draft.previous === null ? null : conn(draft.previous);
      if (conns.some((c) => c.name === name && c !== previous)) {
        fail("conflict", `a connection named ${name} exists`, "Pick another name, or edit that one.");
      }
      const key = draft.key?.trim() || null;
      if (key && !draft.session_only && !keyring.available) {
        fail("keyring", keyring.message ?? "no keyring is reachable", "Keep the key for this session only, or set LD_API_KEY.");
      }
      const keyState: KeyState = key ? (draft.session_only ? "session" : "keyring") : (previous?.key ?? "missing");
      const c: Conn = previous ?? {
        name,
        label: "",
        url: "",
        current: conns.length === 0,
        deployments: [],
        key: "missing",
        demo: false,
        manage: true,
        unreachable: false,
      };
      if (previous && previous.name !== name) {
        const k = keys.get(previous.name);
        keys.delete(previous.name);
        if (k) keys.set(name, k);
      }
      c.name = name;
      c.label = draft.label.trim();
      c.url = draft.url.trim().replace(/\/+$/, "");
      c.deployments = deployments;
      c.key = keyState;
      c.unreachable = /unreachable|offline/i.test(c.url);
      if (key) {
        keys.set(name, key);
        // The fake's Supervisor lets a key that says "read" only list and download.
        c.manage = !/read/i.test(key);
      }
      if (!previous) conns.push(c);
      return view(c);
    },

    connectionTest(name, deployment) {
      const c = conn(name);
      if (c.key === "missing") fail("unauthorized", `no API key for ${name}`, "Edit the connection and give its key.");
      reach(c);
      const id = deployment ?? c.deployments[0]?.id;
      if (!id) fail("invalid_input", `${name} lists no deployment`, "Edit the connection and add one.");
      const d = dep(c, id);
      return {
        context: c.name,
        url: c.url,
        deployment: id,
        snapshots: new Set(d.items.map((i) => i.name)).size,
        permissions: { "deployment:read": true, "deployment:manage": c.manage },
        key_from_environment: c.key === "environment",
      };
    },

    connectionRemove(name) {
      const c = conn(name);
      conns.splice(conns.indexOf(c), 1);
      keys.delete(name);
      if (c.current && conns[0]) conns[0].current = true;
      return { name, key_error: null };
    },

    demoStart() {
      const existing = conns.find((c) => c.demo);
      if (existing) return view(existing);
      const c = addConn({
        name: "demo",
        label: "Demo (local emulator)",
        url: DEMO_URL,
        key: "session",
        demo: true,
        deployments: [{ id: DEMO_DEPLOYMENT, name: "events-prod", plan: "pro", nodes: 3, snapshots: 2, inLibrary: 1 }],
      });
      return view(c);
    },

    deploymentSnapshots(connection, deployment) {
      const c = conn(connection);
      reach(c);
      if (c.key === "missing") {
        apiFail("unauthorized", 401, "the Supervisor refused the request: no API key", "Edit the connection and give its key.");
      }
      const d = dep(c, deployment);
      const t = now();
      return {
        connection: c.name,
        deployment: d.id,
        deployment_name: d.name,
        plan: d.plan,
        retention_days: d.retentionDays,
        snapshots: groups(d, t),
        fetched_at: iso(t),
        permissions: c.manage === null ? null : { "deployment:read": true, "deployment:manage": c.manage },
      };
    },

    snapshotCreate(connection, deployment, _redact, _iggy, job, onProgress) {
      const c = conn(connection);
      reach(c);
      manageOrFail(c, "create snapshots");
      const d = dep(c, deployment);
      const t = now();
      const busy = groups(d, t).find((g) => g.state === "processing");
      if (busy) {
        apiFail(
          "conflict",
          409,
          `a snapshot is already in progress on ${d.name}: ${busy.name}`,
          "Wait for it to complete, then create another.",
          { in_progress: busy.name },
        );
      }
      let name = snapshotName(t);
      while (d.items.some((i) => i.name === name)) name = `${name}-1`;
      const items = addItems(d, t, name, processingMs);
      const total = items.length;
      onProgress({ kind: "created", name, nodes: total, request_id: requestId() });
      return new Promise<Waited>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        running.set(job, () => {
          clearTimeout(timer);
          reject(cancelled(`stopped waiting for ${name}`, "The snapshot keeps processing on the Supervisor."));
        });
        const step = () => {
          const at = now();
          const completed = items.filter((i) => status(i, at) === "completed").length;
          const failed = items.filter((i) => status(i, at) === "failed").length;
          onProgress({ kind: "waiting", name, completed, failed, total });
          if (completed + failed < total) {
            timer = setTimeout(step, Math.max(20, Math.min(500, processingMs / 6)));
            return;
          }
          running.delete(job);
          resolve({
            name,
            created_at: iso(t),
            state: failed > 0 ? "failed" : "completed",
            items: items.map((i) => apiItem(d, i, at)),
            end: failed > 0 ? "failed" : "completed",
          });
        };
        step();
      });
    },

    snapshotDownload(connection, deployment, ids, job, onProgress) {
      const c = conn(connection);
      reach(c);
      const d = dep(c, deployment);
      const chosen = ids.map(
        (id) => d.items.find((i) => i.id === id) ?? apiFail("not_found", 404, `no snapshot ${id} on ${d.name}`, "Refresh the list."),
      );
      let stop = false;
      let wake: (() => void) | null = null;
      running.set(job, () => {
        stop = true;
        wake?.();
      });
      const nap = (ms: number) =>
        new Promise<void>((r) => {
          wake = r;
          void wait(ms).then(() => r());
        });
      const steps = 6;
      const run = async (): Promise<Downloaded> => {
        const nodes: NodeDownload[] = [];
        for (const [n, it] of chosen.entries()) {
          if (stop) break;
          onProgress({
            kind: "node_started",
            snapshot_id: it.id,
            node_id: it.node_id,
            index: n + 1,
            count: chosen.length,
            path: `/home/dev/.local/share/snapdesk/downloads/${it.name}-${it.node_id}.zip`,
          });
          const st = status(it, now());
          if (st !== "completed") {
            onProgress({ kind: "node_finished", snapshot_id: it.id, ok: false });
            nodes.push({
              snapshot_id: it.id,
              node_id: it.node_id,
              ok: false,
              entry: null,
              bytes: null,
              resumed_from: null,
              error: {
                code: "not_found",
                message: st === "failed" ? `node ${it.node_id} has no archive: its snapshot failed` : `node ${it.node_id} is still processing`,
                hint: null,
                details: null,
              },
            });
            continue;
          }
          const from = partials.get(it.id) ?? 0;
          let got = from;
          onProgress({ kind: "transfer", snapshot_id: it.id, downloaded: got, total: archiveBytes });
          while (got < archiveBytes && !stop) {
            await nap(transferMs / steps);
            if (stop) break;
            got = Math.min(archiveBytes, got + Math.ceil(archiveBytes / steps));
            onProgress({ kind: "transfer", snapshot_id: it.id, downloaded: got, total: archiveBytes });
          }
          if (stop) {
            partials.set(it.id, got);
            onProgress({ kind: "node_finished", snapshot_id: it.id, ok: false });
            nodes.push({
              snapshot_id: it.id,
              node_id: it.node_id,
              ok: false,
              entry: null,
              bytes: null,
              resumed_from: null,
              error: {
                code: "cancelled",
                message: `cancelled: ${got} bytes of node ${it.node_id} kept`,
                hint: "the next download of this node resumes where it stopped",
                details: null,
              },
            });
            break;
          }
          partials.delete(it.id);
          const old = copies.get(it.id);
          if (old) library.remove(old);
          const entry = library.add(entryFields(d, it));
          copies.set(it.id, entry);
          onProgress({ kind: "node_finished", snapshot_id: it.id, ok: true });
          nodes.push({
            snapshot_id: it.id,
            node_id: it.node_id,
            ok: true,
            entry,
            bytes: archiveBytes,
            resumed_from: from > 0 ? from : null,
            error: null,
          });
        }
        return { snapshot: chosen[0]?.name ?? "", nodes };
      };
      return run().finally(() => running.delete(job));
    },

    snapshotDelete(connection, deployment, ids, alsoLibrary) {
      const c = conn(connection);
      reach(c);
      manageOrFail(c, "delete snapshots");
      const d = dep(c, deployment);
      const out: SnapshotsDeleted = { deleted: [], failed: [], library_removed: [] };
      for (const id of ids) {
        const it = d.items.find((i) => i.id === id);
        if (!it) {
          out.failed.push({
            snapshot_id: id,
            error: { code: "not_found", message: `no snapshot ${id}`, hint: "Refresh the list.", details: { status: 404, request_id: requestId() } },
          });
          continue;
        }
        d.items = d.items.filter((i) => i !== it);
        out.deleted.push(id);
        const entry = copies.get(id);
        copies.delete(id);
        if (alsoLibrary && entry && library.entries().some((e) => e.id === entry)) {
          library.remove(entry);
          out.library_removed.push(entry);
        }
      }
      return out;
    },

    requestCurl(connection, deployment, request) {
      const c = conn(connection);
      const base = `${c.url}/deployments/${deployment}/snapshots`;
      const key = '-H "ld-api-key: $LD_API_KEY"';
      const lines =
        request.kind === "list"
          ? ["curl", `'${base}?page=1&results=100'`, key]
          : request.kind === "create"
            ? [
                "curl",
                "-X POST",
                base,
                key,
                `-H 'idempotency-key: ${crypto.randomUUID?.() ?? "00000000-0000-4000-8000-000000000000"}'`,
                "-H 'Content-Type: application/json'",
                `-d '${JSON.stringify({ redact_secrets: request.redact_secrets, include_iggy: request.include_iggy })}'`,
              ]
            : request.kind === "download"
              ? ["curl", `${base}/${request.id}/download`, key]
              : ["curl", "-X DELETE", `${base}/${request.id}`, key];
      return lines.join(" \\\n  ");
    },

    cancel(job) {
      const stop = running.get(job);
      if (!stop) return false;
      running.delete(job);
      stop();
      return true;
    },

    setUnreachable(name, unreachable) {
      conn(name).unreachable = unreachable;
    },

    storedKey: (name) => keys.get(name) ?? null,
  };
}

/** A Supervisor with three connections for browser previews: one that manages, a read-only one, one offline. */
export function previewConnections(): FakeConnectionSpec[] {
  return [
    {
      name: "acme-prod",
      label: "ACME production",
      url: "https://supervisor.acme.example",
      deployments: [
        { id: "611298765432109056", name: "iggy-prod", plan: "pro", nodes: 3, snapshots: 6, failNodes: [], inLibrary: 2 },
        { id: "611298765432109057", name: "iggy-staging", plan: "basic", nodes: 2, snapshots: 3, failNodes: [2] },
      ],
    },
    {
      name: "globex",
      label: "Globex (read-only key)",
      url: "https://supervisor.globex.example",
      manage: false,
      deployments: [{ id: "711298765432109001", name: "payments-eu", plan: "enterprise", nodes: 5, snapshots: 4 }],
    },
    {
      name: "initech",
      label: "Initech (VPN only)",
      url: "https://supervisor.initech.internal",
      unreachable: true,
      deployments: [{ id: "611298765432109058", name: "payments-eu", plan: "pro", nodes: 3, snapshots: 2, inLibrary: 2 }],
    },
  ];
}

/** One deployment of 1,000 nodes with 20 snapshots: the performance case (`?fake=deployments`). */
export function bigDeploymentConnections(): FakeConnectionSpec[] {
  return [
    {
      name: "big",
      label: "1,000 nodes × 20 snapshots",
      url: "https://supervisor.big.example",
      deployments: [{ id: "811298765432109000", name: "iggy-fleet", plan: "enterprise", nodes: 1000, snapshots: 20, inLibrary: 1 }],
    },
  ];
}
