/**
 * Previews and tests. A varied library (`?fake=library`): groups of three
 * nodes per snapshot, pinned entries, notes, tags, evicted entries, a server
 * copy past its retention, one unredacted archive. Supervisors
 * (`?fake=connections`, `?fake=deployments`): the states of the Deployments
 * section, and its performance case.
 */
import type { Entry } from "../bindings/Entry";
import { fakeEntry } from "./fake";
import type { FakeConnectionSpec } from "./fake-remote";

const DEPLOYMENTS = ["iggy-prod", "iggy-staging", "payments-eu"];
const TAGS = ["ticket-4711", "customer-acme", "tls", "upgrade"];

export function demoEntries(count: number, now = Date.now()): Entry[] {
  const out: Entry[] = [];
  for (let n = 1; n <= count; n++) {
    const group = Math.floor((n - 1) / 3);
    const node = `node-${((n - 1) % 3) + 1}`;
    const created = new Date(now - 120_000 - group * 3_600_000 * 7).toISOString();
    const stamp = created.slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    const deployment = DEPLOYMENTS[group % DEPLOYMENTS.length];
    const fail = group % 4 === 0 ? (n % 3 === 1 ? 2 : 0) : group % 7 === 0 ? 1 : 0;
    out.push(
      fakeEntry(n, {
        title: `Snapshot of ${deployment}-${node}`,
        snapshot_name: `snapshot-${stamp}`,
        deployment_name: deployment,
        deployment_id: String(611298765432109056n + BigInt(group % DEPLOYMENTS.length)),
        node_id: node,
        host_name: `${deployment}-${node}.internal`,
        created_at: created,
        completed_at: created,
        added_at: new Date(Date.parse(created) + 60_000).toISOString(),
        expires_at: new Date(Date.parse(created) + 30 * 86_400_000).toISOString(),
        checks: { pass: 38 + (n % 5), warn: n % 4, fail, info: 5, error: group % 23 === 0 ? 1 : 0, skipped: 1 },
        pinned: group % 11 === 0,
        note: group % 13 === 0 ? "Customer reports lag spikes after the upgrade" : "",
        tags: group % 9 === 0 ? [TAGS[group % TAGS.length]] : [],
        evicted_at: group % 17 === 5 ? new Date(now - 86_400_000).toISOString() : null,
        downloadable: group % 17 === 5 && group < 100,
        redacted: n === 5 ? false : true,
        has_iggy: n % 2 === 0,
        size: 1_400_000 + ((n * 7919) % 9_000_000),
      }),
    );
  }
  return out;
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
