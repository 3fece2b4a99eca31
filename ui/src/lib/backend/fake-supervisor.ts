/**
 * The fake Supervisor's side: deployments whose snapshots go processing → completed over
 * time (node i of n completes at created + processingMs·i/n), the 409 of a second create,
 * downloads with progress into the fake library (cancellable, resumed from what a cancel
 * kept), deletes, and requests as curl. Who asks, with which key and whether it can reach
 * it, is the connections' business (`fake-remote.ts`). The Rust side is the reference.
 */
import type { ApiRequest } from "../bindings/ApiRequest";
import type { AppError } from "../bindings/AppError";
import type { DeploymentView } from "../bindings/DeploymentView";
import type { Downloaded } from "../bindings/Downloaded";
import type { Entry } from "../bindings/Entry";
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

export interface SupervisorOptions {
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

/** Who asks: a connection's URL, what its key may do, the deployments it lists. */
export interface Caller {
  name: string;
  url: string;
  manage: boolean | null;
  deployments: KnownDeployment[];
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

function stamp(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
}

/** A snapshot name like the Supervisor's: `snapshot-20260601-103000`. */
export function snapshotName(t: number): string {
  return `snapshot-${stamp(t)}`;
}

/** Throw the `BackendError` the Rust side would reject with. */
export function fakeFail(code: AppError["code"], message: string, hint: string | null, details: unknown = null): never {
  throw new BackendError({ code, message, hint, details });
}

export interface FakeSupervisor {
  /** Add a deployment (and its seeded snapshots and library copies) at a Supervisor URL. */
  seed(url: string, spec: FakeDeploymentSpec): void;
  /** Reject like the API does: the status and a request id in `details`. */
  apiFail(code: AppError["code"], status: number, message: string, hint: string | null, extra?: object): never;
  snapshots(c: Caller, deployment: string): DeploymentView;
  /** How many snapshots (by name) a deployment has. */
  count(c: Caller, deployment: string): number;
  create(c: Caller, deployment: string, job: string, onProgress: (p: RemoteProgress) => void): Promise<Waited>;
  download(c: Caller, deployment: string, ids: string[], job: string, onProgress: (p: RemoteProgress) => void): Promise<Downloaded>;
  remove(c: Caller, deployment: string, ids: string[], alsoLibrary: boolean): SnapshotsDeleted;
  curl(c: Caller, deployment: string, request: ApiRequest): string;
  /** Stop a create-wait or a download; false when no such job runs. */
  cancel(job: string): boolean;
}

export function createFakeSupervisor(options: SupervisorOptions, library: FakeLibraryHooks): FakeSupervisor {
  const now = options.now ?? Date.now;
  const processingMs = options.processingMs ?? 3000;
  const transferMs = options.transferMs ?? 800;
  const archiveBytes = options.archiveBytes ?? 4_200_000;
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

  function apiFail(code: AppError["code"], status: number, message: string, hint: string | null, extra: object = {}): never {
    fakeFail(code, message, hint, { status, request_id: requestId(), ...extra });
  }

  function depKey(url: string, id: string) {
    return `${url}|${id}`;
  }

  function makeDep(url: string, spec: FakeDeploymentSpec): Dep {
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
    deps.set(depKey(url, spec.id), dep);
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

  function dep(c: Caller, id: string): Dep {
    const found = deps.get(depKey(c.url, id));
    if (found) return found;
    if (!c.deployments.some((d) => d.id === id)) {
      apiFail("not_found", 404, `deployment ${id} is not known to ${c.name}`, "Add it to the connection in Settings.");
    }
    // A deployment added in Settings exists on the fake Supervisor as soon as it is asked for.
    const known = c.deployments.find((d) => d.id === id)!;
    return makeDep(c.url, { id, name: known.name || `deployment-${id.slice(-4)}`, plan: known.plan ?? undefined, snapshots: 2 });
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

  function manageOrFail(c: Caller, what: string) {
    if (c.manage === false) {
      apiFail(
        "forbidden",
        403,
        `the key of ${c.name} may not ${what}: it lacks deployment:manage`,
        "Use a key with the deployment:manage permission.",
      );
    }
  }

  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function cancelled(message: string, hint: string | null = null): BackendError {
    return new BackendError({ code: "cancelled", message, hint, details: null });
  }

  /** A cancel flag with a way to cut the current wait short. */
  function stopper() {
    let wake: (() => void) | null = null;
    const self = {
      stopped: false,
      stop: () => {
        self.stopped = true;
        wake?.();
      },
      nap: (ms: number) =>
        new Promise<void>((r) => {
          wake = r;
          void wait(ms).then(() => r());
        }),
    };
    return self;
  }

  function nodeResult(it: Item, over: Partial<NodeDownload>): NodeDownload {
    return { snapshot_id: it.id, node_id: it.node_id, ok: false, entry: null, bytes: null, resumed_from: null, error: null, ...over };
  }

  /** One node's archive in six steps, from its `.partial` when a cancel left one; then into the library. */
  async function fetchNode(
    d: Dep,
    it: Item,
    stop: ReturnType<typeof stopper>,
    onProgress: (p: RemoteProgress) => void,
  ): Promise<NodeDownload> {
    const st = status(it, now());
    if (st !== "completed") {
      const message = st === "failed" ? `node ${it.node_id} has no archive: its snapshot failed` : `node ${it.node_id} is still processing`;
      return nodeResult(it, { error: { code: "not_found", message, hint: null, details: null } });
    }
    const steps = 6;
    const from = partials.get(it.id) ?? 0;
    let got = from;
    onProgress({ kind: "transfer", snapshot_id: it.id, downloaded: got, total: archiveBytes });
    while (got < archiveBytes && !stop.stopped) {
      await stop.nap(transferMs / steps);
      if (stop.stopped) break;
      got = Math.min(archiveBytes, got + Math.ceil(archiveBytes / steps));
      onProgress({ kind: "transfer", snapshot_id: it.id, downloaded: got, total: archiveBytes });
    }
    if (stop.stopped) {
      partials.set(it.id, got);
      return nodeResult(it, {
        error: {
          code: "cancelled",
          message: `cancelled: ${got} bytes of node ${it.node_id} kept`,
          hint: "the next download of this node resumes where it stopped",
          details: null,
        },
      });
    }
    partials.delete(it.id);
    const old = copies.get(it.id);
    if (old) library.remove(old);
    const entry = library.add(entryFields(d, it));
    copies.set(it.id, entry);
    return nodeResult(it, { ok: true, entry, bytes: archiveBytes, resumed_from: from > 0 ? from : null });
  }

  return {
    seed: (url, spec) => void makeDep(url, spec),
    apiFail,
    snapshots(c, deployment) {
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

    count: (c, deployment) => new Set(dep(c, deployment).items.map((i) => i.name)).size,

    create(c, deployment, job, onProgress) {
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

    download(c, deployment, ids, job, onProgress) {
      const d = dep(c, deployment);
      const chosen = ids.map(
        (id) => d.items.find((i) => i.id === id) ?? apiFail("not_found", 404, `no snapshot ${id} on ${d.name}`, "Refresh the list."),
      );
      const stop = stopper();
      running.set(job, stop.stop);
      const run = async (): Promise<Downloaded> => {
        const nodes: NodeDownload[] = [];
        for (const [n, it] of chosen.entries()) {
          if (stop.stopped) break;
          onProgress({
            kind: "node_started",
            snapshot_id: it.id,
            node_id: it.node_id,
            index: n + 1,
            count: chosen.length,
            path: `/home/dev/.local/share/snapdesk/downloads/${it.name}-${it.node_id}.zip`,
          });
          const result = await fetchNode(d, it, stop, onProgress);
          onProgress({ kind: "node_finished", snapshot_id: it.id, ok: result.ok });
          nodes.push(result);
          if (result.error?.code === "cancelled") break;
        }
        return { snapshot: chosen[0]?.name ?? "", nodes };
      };
      return run().finally(() => running.delete(job));
    },

    remove(c, deployment, ids, alsoLibrary) {
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

    curl(c, deployment, request) {
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
  };
}
