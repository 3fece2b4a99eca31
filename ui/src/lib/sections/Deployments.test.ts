import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { writable } from "svelte/store";
import Deployments from "./Deployments.svelte";
import { createFakeBackend } from "../backend";
import { bigDeploymentConnections } from "../backend/demo";
import type { FakeConnectionSpec, FakeRemoteOptions } from "../backend/fake-remote";
import { createJobsStore } from "../jobs";
import { createLibraryStore } from "../library";
import { createTransfers } from "../remote";
import { crossingReads } from "../deployments/crossing-reads";

const NOW = Date.parse("2026-06-30T12:00:00Z");
const DEP = "611298765432109056";
/** Node ids of the fake are past 2^53: `Number()` anywhere would change their last digits. */
const NODE = ["900719925474099301", "900719925474099302", "900719925474099303"];

/** What the app put on the clipboard (through the backend's `copyText`, never the page's API). */
let writeText: ReturnType<typeof vi.fn<(text: string) => void>>;

beforeEach(() => {
  writeText = vi.fn<(text: string) => void>();
  // The page's clipboard API must not be used: WebKitGTK refuses it in the app.
  Object.defineProperty(navigator, "clipboard", {
    value: { writeText: () => Promise.reject(new Error("refused by WebKitGTK")) },
    configurable: true,
  });
});

afterEach(() => cleanup());

function conn(over: Partial<FakeConnectionSpec> = {}, dep: Partial<FakeConnectionSpec["deployments"][number]> = {}): FakeConnectionSpec {
  return {
    name: "acme",
    label: "ACME production",
    url: "https://supervisor.acme.example",
    deployments: [{ id: DEP, name: "iggy-prod", plan: "pro", nodes: 3, snapshots: 2, ...dep }],
    ...over,
  };
}

function setup(remote: FakeRemoteOptions, opts: { now?: number } = {}) {
  const backend = createFakeBackend({ remote: { now: () => NOW, processingMs: 0, ...remote } });
  const copyText = backend.copyText.bind(backend);
  backend.copyText = (text: string) => {
    writeText(text);
    return copyText(text);
  };
  const jobs = createJobsStore();
  const library = createLibraryStore();
  const transfers = createTransfers();
  const changes = writable(0);
  const libraryChanges = writable(0);
  const onopened = vi.fn();
  const onaddconnection = vi.fn();
  const r = render(Deployments, {
    props: { backend, jobs, library, transfers, changes, libraryChanges, now: opts.now ?? NOW, onopened, onaddconnection },
  });
  return { ...r, backend, jobs, library, transfers, onopened, onaddconnection };
}

/** Holds every `connectionsList` answer (each computed when asked) until the test releases it. */
const groups = () => screen.queryAllByTestId("snapshot-row");
const nodes = () => screen.queryAllByTestId("node-row");
const nodeRow = (nodeId: string) => nodes().find((r) => r.dataset.nodeId === nodeId)!;

async function snapshotsTab() {
  await fireEvent.click(await screen.findByTestId("deployment-tab-snapshots"));
  await waitFor(() => expect(groups().length).toBeGreaterThan(0));
}

describe("Deployments: first run", () => {
  it("offers the demo, starts it and shows its deployment, clearly labelled", async () => {
    const { backend } = setup({ connections: [] });
    const first = await screen.findByTestId("deployments-first-run");
    expect(first.textContent).toContain("No connection yet");
    expect(within(first).getByRole("button", { name: "Add a connection" })).toBeTruthy();

    await fireEvent.click(within(first).getByRole("button", { name: "Try the demo" }));
    await waitFor(() => expect(screen.getByTestId("deployment-pane").dataset.connection).toBe("demo"));
    expect(backend.calls).toContain("demoStart");
    expect(screen.getByTestId("deployments-nav").textContent).toContain("Demo (local emulator)");
    expect(screen.getByTestId("deployment-name").textContent).toBe("events-prod");
    expect(screen.getByTestId("demo-badge").textContent).toContain("Demo");
    // A new user begins with the snapshots (the library holds nothing to triage yet).
    expect(screen.getByTestId("deployment-tab-snapshots").getAttribute("aria-selected")).toBe("true");
    await waitFor(() => expect(groups()).toHaveLength(2));
  });

  it("sends 'Add a connection' to Settings", async () => {
    const { onaddconnection } = setup({ connections: [] });
    await fireEvent.click(await screen.findByRole("button", { name: "Add a connection" }));
    expect(onaddconnection).toHaveBeenCalledOnce();
  });
});

describe("Deployments: snapshots", () => {
  it("opens on the triage board of the deployment, scoped to it", async () => {
    const { backend } = setup({ connections: [conn()] });
    await screen.findByTestId("triage-board");
    expect(screen.getByTestId("deployment-tab-triage").getAttribute("aria-selected")).toBe("true");
    expect((screen.getByTestId("triage-scope") as HTMLSelectElement).value).toBe(`d:${DEP}`);
    expect(backend.calls).toContain("libraryTriage");
  });

  it("groups snapshots by name with node count, state, times, retention and library copies; ids stay exact", async () => {
    setup(
      { connections: [conn({}, { failNodes: [3], inLibrary: 1, processing: true })], processingMs: 60_000 },
      { now: NOW + 37_000 },
    );
    await snapshotsTab();
    const [processing, failed, completed] = groups();
    expect(groups().map((g) => g.dataset.state)).toEqual(["processing", "failed", "completed"]);

    // Processing, with the time since it was created (5 s before the fake's clock).
    expect(within(processing).getByTestId("snapshot-elapsed").textContent).toBe("0:42");
    expect(processing.textContent).toContain("0 of 3 nodes completed");
    expect(within(processing).getByTestId("snapshot-node-count").textContent).toBe("3 nodes");
    // The newest snapshot is expanded: its nodes are processing.
    expect(nodes().map((n) => n.dataset.status)).toEqual(["processing", "processing", "processing"]);

    // Failed nodes are named; the library holds one node, another one was evicted.
    expect(within(failed).getByTestId("snapshot-state").textContent).toContain("Failed on 1 node");
    expect(within(failed).getByTestId("snapshot-failed-nodes").textContent?.trim()).toBe(NODE[2]);
    expect(within(failed).getByTestId("snapshot-library").textContent).toMatch(/1 of 3 in library\s*1 evicted/);
    expect(within(failed).getByTestId("snapshot-created").textContent).toMatch(/created\s+2026-06-30 \d\d:40\s*· 20 min ago/);
    expect(within(failed).getByTestId("snapshot-completed").textContent).toContain("20 min ago");
    expect(within(failed).getByTestId("snapshot-expires").textContent).toBe("expires in 29 d");

    expect(within(completed).getByTestId("snapshot-state").textContent).toContain("Completed");
    expect(within(completed).getByTestId("snapshot-library").textContent).toContain("Not in library");
    expect(within(completed).getByTestId("snapshot-expires").textContent).toBe("expires in 29 d");

    // Expanding the failed snapshot shows each node's state.
    await fireEvent.click(within(failed).getByTestId("snapshot-toggle"));
    expect(within(failed).getByTestId("snapshot-toggle").getAttribute("aria-expanded")).toBe("true");
    const evicted = nodes().filter((n) => n.dataset.nodeId === NODE[0])[1];
    const held = nodes().filter((n) => n.dataset.nodeId === NODE[1])[1];
    const broken = nodes().filter((n) => n.dataset.nodeId === NODE[2])[1];
    expect(within(evicted).getByTestId("node-evicted")).toBeTruthy();
    expect(within(evicted).getByRole("button", { name: "Download" })).toBeTruthy();
    expect(within(held).getByTestId("node-in-library").textContent).toBe("In library");
    expect(within(held).getByRole("button", { name: "Open" })).toBeTruthy();
    expect(within(broken).getByTestId("node-status").textContent).toContain("Failed");
    expect((within(broken).getByRole("button", { name: "Download" }) as HTMLButtonElement).disabled).toBe(true);

    // Ids are the API's strings, digit for digit.
    expect(within(held).getByTestId("node-id").textContent).toBe(NODE[1]);
    expect(held.dataset.id).toMatch(/^73000000000000000\d\d$/);
    expect(held.textContent).toContain(`id ${held.dataset.id}`);
  });

  it("opens a node that is in the library in the viewer", async () => {
    const { backend, library, onopened } = setup({ connections: [conn({}, { inLibrary: 1 })] });
    await snapshotsTab();
    const held = nodeRow(NODE[1]);
    await fireEvent.click(within(held).getByRole("button", { name: "Open" }));
    await waitFor(() => expect(onopened).toHaveBeenCalledOnce());
    expect(backend.calls).toContain("libraryOpen");
    const s = library.snapshot();
    expect(s.viewing).toBe(s.entries[0].token);
    expect(s.entries[0].summary.title).toContain(NODE[1]);
  });
});

describe("Deployments: create", () => {
  it("says what turning redaction off means, then follows the create as a job and lists the new snapshot", async () => {
    const { backend, jobs } = setup({ connections: [conn()] });
    await snapshotsTab();
    expect(groups()).toHaveLength(2);
    await fireEvent.click(screen.getByTestId("create-snapshot"));
    const dialog = screen.getByTestId("create-dialog");
    const redact = within(dialog).getByLabelText(/Redact secrets/) as HTMLInputElement;
    const iggy = within(dialog).getByLabelText(/Include Iggy data/) as HTMLInputElement;
    expect(redact.checked).toBe(true);
    expect(iggy.checked).toBe(true);
    expect(dialog.textContent).toContain("it can be large");
    expect(screen.queryByTestId("create-redact-off")).toBeNull();
    await fireEvent.click(redact);
    expect(screen.getByTestId("create-redact-off").textContent).toMatch(/API keys, passwords and tokens.*leave the hosts in clear/);
    await fireEvent.click(iggy);

    const create = vi.spyOn(backend, "snapshotCreate");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Create snapshot" }));
    expect(screen.queryByTestId("create-dialog")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("deployment-notice").textContent).toMatch(/completed on 3 nodes/));
    expect(create.mock.calls[0].slice(0, 4)).toEqual(["acme", DEP, false, false]);
    const job = jobs.snapshot().find((j) => j.label === "Creating a snapshot of iggy-prod")!;
    expect(job.status).toBe("succeeded");
    expect(job.detail).toMatch(/3 of 3 nodes completed/);
    await waitFor(() => expect(groups()).toHaveLength(3));
    expect(groups()[0].dataset.state).toBe("completed");
  });

  it("on a 409 says a snapshot is already in progress and selects it", async () => {
    setup({ connections: [conn({}, { processing: true })], processingMs: 60_000 });
    await snapshotsTab();
    const busy = groups()[0].dataset.name!;
    // Collapse it and look elsewhere first: the 409 brings it back.
    await fireEvent.click(within(groups()[0]).getByTestId("snapshot-toggle"));
    expect(nodes()).toHaveLength(0);
    await fireEvent.click(screen.getByTestId("create-snapshot"));
    await fireEvent.click(screen.getByTestId("create-confirm"));
    const notice = await screen.findByTestId("deployment-notice");
    expect(notice.textContent).toContain("A snapshot is already in progress");
    expect(notice.textContent).toContain(busy);
    await waitFor(() => expect(groups().find((g) => g.classList.contains("selected"))?.dataset.name).toBe(busy));
    expect(nodes()).toHaveLength(3);
  });
});

describe("Deployments: a pane left behind", () => {
  it("reads nothing more for a deployment once the person switched away, even when a create answers late", async () => {
    const OTHER = "611298765432109057";
    const spec = conn({}, { processing: true });
    spec.deployments.push({ id: OTHER, name: "iggy-staging", plan: "pro", nodes: 1, snapshots: 1 });
    const { backend } = setup({ connections: [spec], processingMs: 60_000 });
    await snapshotsTab();
    // The create waits (a slow Supervisor) and then answers 409: a snapshot is in progress.
    const create = backend.snapshotCreate.bind(backend);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    backend.snapshotCreate = async (...args) => {
      await gate;
      return create(...args);
    };
    const reads: string[] = [];
    const read = backend.deploymentSnapshots.bind(backend);
    backend.deploymentSnapshots = (c, d) => {
      reads.push(d);
      return read(c, d);
    };
    await fireEvent.click(screen.getByTestId("create-snapshot"));
    await fireEvent.click(screen.getByTestId("create-confirm"));
    // Meanwhile the person looks at another deployment: the first pane goes.
    const other = screen.getAllByTestId("deployment-item").find((b) => b.textContent?.includes("iggy-staging"))!;
    await fireEvent.click(other);
    await waitFor(() => expect(screen.getByTestId("deployment-pane").dataset.deployment).toBe(OTHER));
    reads.length = 0;
    release();
    // The 409 arrives; the gone pane must neither read a list again nor start following one.
    await new Promise((r) => setTimeout(r, 1_200));
    // Only the live pane reads (once: the create's end bumps the changes); the gone pane,
    // whose props already name the new deployment, reads nothing.
    expect(reads).toEqual([OTHER]);
  });
});

describe("Deployments: reads of the connections that cross", () => {
  it("keeps the newest list when an older read answers last", async () => {
    const { backend } = setup({ connections: [conn()] });
    await screen.findByTestId("deployment-pane");
    const held = await crossingReads(backend, "beta", "611298765432109099");
    const listed = () => screen.getAllByTestId("nav-connection").map((c) => c.dataset.name);
    held[1]();
    await waitFor(() => expect(listed()).toEqual(["acme", "beta"]));
    // The older answer (without beta) lands last: it is dropped.
    held[0]();
    await new Promise((r) => setTimeout(r, 20));
    expect(listed()).toEqual(["acme", "beta"]);
  });
});

describe("Deployments: read-only key", () => {
  it("disables create and delete and names the missing permission", async () => {
    setup({ connections: [conn({ manage: false })] });
    await snapshotsTab();
    const create = screen.getByTestId("create-snapshot") as HTMLButtonElement;
    expect(create.disabled).toBe(true);
    expect(screen.getByTestId("manage-blocked").textContent).toContain("This key lacks deployment:manage");
    for (const b of screen.getAllByRole("button", { name: "Delete" }) as HTMLButtonElement[]) {
      expect(b.disabled).toBe(true);
      expect(b.title).toBe("This key lacks deployment:manage");
    }
    // Downloading stays possible.
    expect((within(groups()[1]).getByRole("button", { name: "Download all" }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("keeps create and delete enabled when the permissions are unknown", async () => {
    setup({ connections: [conn({ manage: null })] });
    await snapshotsTab();
    expect((screen.getByTestId("create-snapshot") as HTMLButtonElement).disabled).toBe(false);
    expect(screen.queryByTestId("manage-blocked")).toBeNull();
  });
});

describe("Deployments: download", () => {
  it("shows bytes, rate and time left, cancels, says Download resumes, and resumes", async () => {
    const { jobs, backend } = setup({ connections: [conn()], transferMs: 1200, archiveBytes: 6_000_000 });
    await snapshotsTab();
    const row = () => nodeRow(NODE[0]);
    await fireEvent.click(within(row()).getByRole("button", { name: "Download" }));
    await waitFor(() => expect(jobs.snapshot()[0]?.detail ?? "").toMatch(/MB\/s · .* left/));
    const job = jobs.snapshot()[0];
    expect(job.label).toContain(`node ${NODE[0]}`);
    expect(job.detail).toMatch(new RegExp(`node 1 of 1: ${NODE[0]} · [\\d.]+ MB of 6\\.0 MB`));
    expect(row().dataset.transfer).toBe("downloading");
    expect(within(row()).getByTestId("node-library").textContent).toMatch(/Downloading \d+ %/);
    expect(jobs.cancellable(job.id)).toBe(true);

    await fireEvent.click(within(row()).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(row().dataset.transfer).toBe("cancelled"));
    expect(jobs.snapshot()[0].status).toBe("cancelled");
    expect(within(row()).getByTestId("node-resume").textContent).toMatch(/Download resumes from [\d.]+ MB/);
    expect(within(row()).getByRole("button", { name: "Download" }).title).toMatch(/^Resume from/);
    expect(backend.calls).toContain("cancelJob");

    await fireEvent.click(within(row()).getByRole("button", { name: "Download" }));
    await waitFor(() => expect(jobs.snapshot()[1]?.status).toBe("succeeded"), { timeout: 3000 });
    expect(row().dataset.transfer).toBe("done");
    expect(within(row()).getByTestId("node-resumed").textContent).toMatch(/resumed from [\d.]+ MB/);
    await waitFor(() => expect(within(row()).getByRole("button", { name: "Open" })).toBeTruthy());
    expect(jobs.snapshot()[1].status).toBe("succeeded");
  });

  it("downloads every node of a snapshot as one job, per node", async () => {
    const { jobs, transfers } = setup({ connections: [conn()], transferMs: 60 });
    await snapshotsTab();
    await fireEvent.click(within(groups()[0]).getByRole("button", { name: "Download all" }));
    await waitFor(() => expect(jobs.snapshot()[0].status).toBe("succeeded"), { timeout: 3000 });
    expect(jobs.snapshot()).toHaveLength(1);
    expect(jobs.snapshot()[0].label).toMatch(/· 3 nodes$/);
    expect(Object.values(transfers.snapshot()).map((t) => t.state)).toEqual(["done", "done", "done"]);
    await waitFor(() => expect(within(groups()[0]).getByTestId("snapshot-library").textContent).toContain("3 of 3 in library"));
    expect((within(groups()[0]).getByRole("button", { name: "Download all" }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("Deployments: delete", () => {
  it("names what goes and keeps the library copies unless asked", async () => {
    const { backend } = setup({ connections: [conn({}, { inLibrary: 1 })] });
    await snapshotsTab();
    const name = groups()[0].dataset.name!;
    await fireEvent.click(within(groups()[0]).getByRole("button", { name: "Delete" }));
    const dialog = screen.getByTestId("confirm-delete");
    expect(screen.getByTestId("confirm-delete-what").textContent).toMatch(
      new RegExp(`The server copy of snapshot\\s+${name}\\s+on 3 nodes`),
    );
    const also = within(dialog).getByLabelText("Also remove the library copies") as HTMLInputElement;
    expect(also.checked).toBe(false);
    const del = vi.spyOn(backend, "snapshotDelete");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.getByTestId("deployment-notice").textContent).toContain(`Deleted the server copy of ${name} on 3 nodes; the library copies stay`));
    expect(del.mock.calls[0][3]).toBe(false);
    expect(del.mock.calls[0][2]).toHaveLength(3);
    await waitFor(() => expect(groups()).toHaveLength(1));
    const left = await backend.libraryBrowse(`deployment:${DEP}`, "created", 0, 10);
    expect(left.total).toBe(3);
  });

  it("deletes one node and, when ticked, its library copy", async () => {
    const { backend } = setup({ connections: [conn({}, { inLibrary: 1 })] });
    await snapshotsTab();
    const name = groups()[0].dataset.name!;
    await fireEvent.click(within(nodeRow(NODE[1])).getByRole("button", { name: "Delete" }));
    expect(screen.getByTestId("confirm-delete-what").textContent).toMatch(new RegExp(`${name}\\s+on 1 node\\s+\\(node ${NODE[1]}\\)`));
    await fireEvent.click(screen.getByLabelText("Also remove the library copies"));
    await fireEvent.click(screen.getByTestId("confirm-delete-ok"));
    await waitFor(() => expect(screen.getByTestId("deployment-notice").textContent).toContain("1 library copy removed"));
    await waitFor(() => expect(within(groups()[0]).getByTestId("snapshot-node-count").textContent).toBe("2 nodes"));
    const left = await backend.libraryBrowse(`deployment:${DEP}`, "created", 0, 10);
    expect(left.items.map((e) => e.node_id)).not.toContain(NODE[1]);
  });

  it("offers no library checkbox when the library holds none of them", async () => {
    setup({ connections: [conn()] });
    await snapshotsTab();
    await fireEvent.click(within(groups()[0]).getByRole("button", { name: "Delete" }));
    expect(screen.queryByLabelText("Also remove the library copies")).toBeNull();
    expect(screen.getByTestId("confirm-delete").textContent).toContain("The library holds no copy of them");
    await fireEvent.click(screen.getByTestId("confirm-delete-cancel"));
    expect(screen.queryByTestId("confirm-delete")).toBeNull();
  });
});

describe("Deployments: errors", () => {
  it("shows code, message, hint and the request id with a Copy button, and the request as curl", async () => {
    const { backend } = setup({ connections: [conn()] });
    backend.fail("deploymentSnapshots", {
      code: "api",
      message: "the Supervisor answered 500: internal error",
      hint: "Try again; if it persists, give the request id to support.",
      details: { status: 500, request_id: "req_7f3a9c" },
    });
    await fireEvent.click(await screen.findByTestId("deployment-tab-snapshots"));
    const panel = await screen.findByTestId("deployment-error");
    expect(within(panel).getByTestId("deployment-error-code").textContent).toBe("api");
    expect(within(panel).getByTestId("deployment-error-message").textContent).toContain("answered 500");
    expect(within(panel).getByTestId("deployment-error-hint").textContent).toContain("give the request id");
    expect(within(panel).getByTestId("deployment-error-status").textContent).toBe("500");
    expect(within(panel).getByTestId("deployment-error-request-id").textContent).toBe("req_7f3a9c");

    await fireEvent.click(within(panel).getByRole("button", { name: "Copy request id" }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith("req_7f3a9c"));
    expect(within(panel).getByTestId("deployment-error-copy-id").textContent).toBe("Copied");

    await fireEvent.click(within(panel).getByRole("button", { name: "Copy as curl" }));
    await waitFor(() => expect(writeText).toHaveBeenCalledTimes(2));
    expect(writeText.mock.calls[1][0]).toContain(`https://supervisor.acme.example/deployments/${DEP}/snapshots`);
    expect(writeText.mock.calls[1][0]).toContain("$LD_API_KEY");
    expect(within(panel).getByTestId("copy-curl").textContent?.trim()).toBe("Copied");

    backend.fail("deploymentSnapshots", null);
    await fireEvent.click(within(panel).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(groups()).toHaveLength(2));
  });

  it("offers Copy as curl for the list, a snapshot and a node", async () => {
    setup({ connections: [conn()] });
    await snapshotsTab();
    const copies = screen.getAllByRole("button", { name: "Copy as curl" });
    // The list, each snapshot, each node of the expanded one.
    expect(copies.length).toBe(1 + 2 + 3);
    await fireEvent.click(within(nodeRow(NODE[0])).getByRole("button", { name: "Copy as curl" }));
    await waitFor(() => expect(writeText).toHaveBeenCalledOnce());
    expect(writeText.mock.calls[0][0]).toMatch(new RegExp(`/snapshots/${nodeRow(NODE[0]).dataset.id}/download`));
    await waitFor(() => expect(within(nodeRow(NODE[0])).getByTestId("copy-curl").textContent?.trim()).toBe("Copied"));
  });

  it("copies a snapshot's every node as curl with one call to the backend", async () => {
    const { backend } = setup({ connections: [conn()] });
    await snapshotsTab();
    const asked = () => backend.calls.filter((c) => c === "requestCurl").length;
    // Drawing the rows asks nothing.
    expect(asked()).toBe(0);
    await fireEvent.click(within(groups()[0]).getByRole("button", { name: "Copy as curl" }));
    await waitFor(() => expect(writeText).toHaveBeenCalledOnce());
    expect(asked()).toBe(1);
    const commands = writeText.mock.calls[0][0].split("\n\n");
    const ids = nodes().map((n) => n.dataset.id!);
    expect(ids).toHaveLength(3);
    expect(commands).toEqual(ids.map((id) => expect.stringMatching(new RegExp(`/snapshots/${id}/download `))));
    expect(commands.every((c) => c.includes("$LD_API_KEY"))).toBe(true);
  });

  it("says an unreachable Supervisor can't be reached, keeps what the library holds, and retries", async () => {
    const { backend } = setup({ connections: [conn({ unreachable: true }, { inLibrary: 2 })] });
    await fireEvent.click(await screen.findByTestId("deployment-tab-snapshots"));
    const offline = await screen.findByTestId("deployment-offline");
    expect(offline.textContent).toContain("The Supervisor can't be reached");
    expect(within(offline).getByTestId("deployment-offline-error-code").textContent).toBe("network");
    await waitFor(() => expect(screen.getAllByTestId("offline-entry")).toHaveLength(6));
    expect(screen.getByTestId("offline-library").textContent).toContain("6 entries of iggy-prod");
    expect((screen.getByTestId("create-snapshot") as HTMLButtonElement).disabled).toBe(true);
    // The triage board still reads the library.
    await fireEvent.click(screen.getByTestId("deployment-tab-triage"));
    expect(screen.getByTestId("deployment-offline")).toBeTruthy();
    await screen.findByTestId("triage-board");
    await fireEvent.click(screen.getByTestId("deployment-tab-snapshots"));

    backend.remote.setUnreachable("acme", false);
    await fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(groups()).toHaveLength(2));
    expect(screen.queryByTestId("deployment-offline")).toBeNull();
    expect(screen.queryByTestId("offline-library")).toBeNull();
  });
});

describe("Deployments: a thousand nodes × twenty snapshots", () => {
  it("draws only the rows in view, expanded or not, and marks the first draw", async () => {
    const mark = vi.spyOn(performance, "mark");
    setup({ connections: bigDeploymentConnections() });
    await snapshotsTab();
    const list = screen.getByTestId("snapshot-list");
    // The newest snapshot is expanded: 20 snapshot rows + 1,000 node rows.
    expect(list.dataset.total).toBe("1020");
    const drawn = () => screen.getAllByRole("listitem").filter((li) => li.closest("[data-testid=snapshot-rows]")).length;
    expect(drawn()).toBeLessThan(40);
    expect(mark).toHaveBeenCalledWith("deployments-data", expect.anything());
    expect(mark).toHaveBeenCalledWith("deployments-rendered", expect.anything());

    const t0 = performance.now();
    await fireEvent.click(screen.getByRole("button", { name: "Expand all" }));
    expect(list.dataset.total).toBe(String(20 + 20 * 1000));
    expect(drawn()).toBeLessThan(40);
    expect(performance.now() - t0).toBeLessThan(2000);

    const viewport = screen.getByTestId("snapshot-viewport");
    viewport.scrollTop = 44 * 15_000;
    await fireEvent.scroll(viewport);
    const indexes = screen.getAllByTestId(/^(node|snapshot)-row$/).map((r) => Number(r.dataset.index));
    expect(Math.min(...indexes)).toBeGreaterThan(14_980);
    expect(Math.max(...indexes)).toBeLessThan(15_040);
    expect(drawn()).toBeLessThan(40);
  });
});
