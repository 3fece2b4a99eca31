/**
 * The fake backend's connections: the CLI's contexts (and the demo), a keyring that may be
 * missing, keys that never come back, and a Supervisor behind each URL that may not answer.
 * Each request goes to the fake Supervisor (`fake-supervisor.ts`) once the connection
 * checks passed. In memory; the Rust side is the reference for every answer.
 */
import type { ApiRequest } from "../bindings/ApiRequest";
import type { Connection } from "../bindings/Connection";
import type { ConnectionDraft } from "../bindings/ConnectionDraft";
import type { Connections } from "../bindings/Connections";
import type { ContextRemoved } from "../bindings/ContextRemoved";
import type { ContextTest } from "../bindings/ContextTest";
import type { DeploymentView } from "../bindings/DeploymentView";
import type { Downloaded } from "../bindings/Downloaded";
import type { KeyState } from "../bindings/KeyState";
import type { KeyringInfo } from "../bindings/KeyringInfo";
import type { KnownDeployment } from "../bindings/KnownDeployment";
import type { RemoteProgress } from "../bindings/RemoteProgress";
import type { SnapshotsDeleted } from "../bindings/SnapshotsDeleted";
import type { Waited } from "../bindings/Waited";
import {
  createFakeSupervisor,
  fakeFail,
  type FakeDeploymentSpec,
  type FakeLibraryHooks,
  type SupervisorOptions,
} from "./fake-supervisor";

export type { FakeDeploymentSpec, FakeLibraryHooks } from "./fake-supervisor";
export { snapshotName } from "./fake-supervisor";

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

export interface FakeRemoteOptions extends SupervisorOptions {
  connections?: FakeConnectionSpec[];
  keyring?: KeyringInfo;
}

export const DEMO_URL = "http://127.0.0.1:8787";
export const DEMO_DEPLOYMENT = "611298765432109056";

const KEYRING_OK: KeyringInfo = { available: true, message: null };

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

export function createFakeRemote(options: FakeRemoteOptions, library: FakeLibraryHooks): FakeRemote {
  const keyring = options.keyring ?? KEYRING_OK;
  const supervisor = createFakeSupervisor(options, library);
  const conns: Conn[] = [];
  const keys = new Map<string, string>();

  function conn(name: string): Conn {
    return (
      conns.find((c) => c.name === name) ??
      fakeFail("not_found", `no connection named ${name}`, "Add it in Settings → Connections.")
    );
  }

  /** The connection, when its Supervisor answers and its key is there. */
  function reach(name: string): Conn {
    const c = conn(name);
    if (c.unreachable) {
      fakeFail(
        "network",
        `cannot reach the Supervisor at ${c.url}: connection refused`,
        "Check the URL and your network (VPN, proxy), then retry.",
        { url: c.url },
      );
    }
    if (c.key === "missing") {
      supervisor.apiFail("unauthorized", 401, "the Supervisor refused the request: no API key", "Edit the connection and give its key.");
    }
    return c;
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

  function parseDeployment(line: string): KnownDeployment {
    const [id, ...rest] = line.split("=");
    const name = rest.join("=").trim();
    if (!/^\d+$/.test(id.trim())) {
      fakeFail("invalid_input", `deployment id "${id.trim()}" is not a number`, "Give ID or ID=NAME, one per line.");
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
    for (const d of spec.deployments) supervisor.seed(c.url, d);
    return c;
  }


  for (const spec of options.connections ?? []) addConn(spec);

  return {
    connectionsList: () => ({ items: conns.map(view), keyring: { ...keyring } }),

    connectionSave(draft) {
      const name = draft.name.trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
        fakeFail("invalid_input", `"${draft.name}" is not a connection name`, "Use letters, digits, dots, dashes and underscores.");
      }
      if (!/^https?:\/\/[^\s/]+/.test(draft.url.trim())) {
        fakeFail("invalid_input", `"${draft.url}" is not an http(s) URL`, "Give the Supervisor's URL, e.g. https://supervisor.example.com.");
      }
      if (draft.deployments.length === 0) {
        fakeFail("invalid_input", "no deployment given", "Give at least one deployment id.");
      }
      const deployments = draft.deployments.map(parseDeployment);
      const previous = draft.previous === null ? null : conn(draft.previous);
      if (conns.some((c) => c.name === name && c !== previous)) {
        fakeFail("conflict", `a connection named ${name} exists`, "Pick another name, or edit that one.");
      }
      const key = draft.key?.trim() || null;
      if (key && !draft.session_only && !keyring.available) {
        fakeFail("keyring", keyring.message ?? "no keyring is reachable", "Keep the key for this session only, or set LD_API_KEY.");
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
      const c = reach(name);
      const id = deployment ?? c.deployments[0]?.id;
      if (!id) fakeFail("invalid_input", `${name} lists no deployment`, "Edit the connection and add one.");
      return {
        context: c.name,
        url: c.url,
        deployment: id,
        snapshots: supervisor.count(c, id),
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

    deploymentSnapshots: (connection, deployment) => supervisor.snapshots(reach(connection), deployment),
    snapshotCreate: (connection, deployment, _redact, _iggy, job, onProgress) =>
      supervisor.create(reach(connection), deployment, job, onProgress),
    snapshotDownload: (connection, deployment, ids, job, onProgress) =>
      supervisor.download(reach(connection), deployment, ids, job, onProgress),
    snapshotDelete: (connection, deployment, ids, alsoLibrary) => supervisor.remove(reach(connection), deployment, ids, alsoLibrary),
    requestCurl: (connection, deployment, request) => supervisor.curl(conn(connection), deployment, request),
    cancel: (job) => supervisor.cancel(job),

    setUnreachable(name, unreachable) {
      conn(name).unreachable = unreachable;
    },

    storedKey: (name) => keys.get(name) ?? null,
  };
}
