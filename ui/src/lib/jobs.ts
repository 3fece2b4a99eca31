/**
 * Background jobs shown in the status area (downloads, collection, report
 * rendering, ...). A plain Svelte store so it can be used from TS and tested
 * without a component.
 */
import { get, writable, type Readable } from "svelte/store";

export type JobStatus = "running" | "succeeded" | "failed" | "cancelled";

export interface Job {
  id: string;
  label: string;
  /** Short secondary text, e.g. "node-2 · 14 of 30 files". */
  detail: string | null;
  /** 0..1, or null while the amount of work is unknown (indeterminate bar). */
  progress: number | null;
  status: JobStatus;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

export interface NewJob {
  id?: string;
  label: string;
  detail?: string | null;
  progress?: number | null;
  /** How to stop it; the status area offers Cancel while it runs. */
  cancel?: () => void;
}

export interface JobPatch {
  label?: string;
  detail?: string | null;
  progress?: number | null;
}

export interface JobOutcome {
  status?: Exclude<JobStatus, "running">;
  error?: string | null;
}

export interface JobsStore extends Readable<Job[]> {
  /** Add a running job; returns its id. Re-using the id of a known job throws. */
  add(job: NewJob): string;
  /** Patch a running job. Returns false when the job is unknown or finished. */
  update(id: string, patch: JobPatch): boolean;
  /** Mark a running job finished. Returns false when unknown or already finished. */
  finish(id: string, outcome?: JobOutcome): boolean;
  remove(id: string): boolean;
  /** Whether a running job can be cancelled from the status area. */
  cancellable(id: string): boolean;
  /** Ask a running job to stop (its owner finishes it as cancelled). False when it cannot be. */
  cancel(id: string): boolean;
  /** Drop every finished job. */
  clearFinished(): void;
  snapshot(): Job[];
}

export function clampProgress(p: number | null | undefined): number | null {
  if (p === null || p === undefined || Number.isNaN(p)) return null;
  return Math.min(1, Math.max(0, p));
}

export function runningJobs(list: readonly Job[]): Job[] {
  return list.filter((j) => j.status === "running");
}

export function createJobsStore(now: () => number = Date.now): JobsStore {
  const store = writable<Job[]>([]);
  /** Kept apart from the jobs: a function is no state to compare or render. */
  const cancels = new Map<string, () => void>();
  let seq = 0;

  const find = (id: string) => get(store).find((j) => j.id === id);

  function replace(id: string, fn: (j: Job) => Job) {
    store.update((list) => list.map((j) => (j.id === id ? fn(j) : j)));
  }

  return {
    subscribe: store.subscribe,

    add(job) {
      const id = job.id ?? `job-${++seq}`;
      if (find(id)) throw new Error(`job ${id} already exists`);
      const created: Job = {
        id,
        label: job.label,
        detail: job.detail ?? null,
        progress: clampProgress(job.progress),
        status: "running",
        startedAt: now(),
        finishedAt: null,
        error: null,
      };
      if (job.cancel) cancels.set(id, job.cancel);
      store.update((list) => [...list, created]);
      return id;
    },

    update(id, patch) {
      const job = find(id);
      if (!job || job.status !== "running") return false;
      replace(id, (j) => ({
        ...j,
        label: patch.label ?? j.label,
        detail: patch.detail === undefined ? j.detail : patch.detail,
        progress: patch.progress === undefined ? j.progress : clampProgress(patch.progress),
      }));
      return true;
    },

    finish(id, outcome = {}) {
      const job = find(id);
      if (!job || job.status !== "running") return false;
      const status = outcome.status ?? "succeeded";
      cancels.delete(id);
      replace(id, (j) => ({
        ...j,
        status,
        progress: status === "succeeded" ? 1 : j.progress,
        finishedAt: now(),
        error: outcome.error ?? null,
      }));
      return true;
    },

    remove(id) {
      if (!find(id)) return false;
      cancels.delete(id);
      store.update((list) => list.filter((j) => j.id !== id));
      return true;
    },

    cancellable: (id) => cancels.has(id) && find(id)?.status === "running",

    cancel(id) {
      const stop = cancels.get(id);
      if (!stop || find(id)?.status !== "running") return false;
      stop();
      return true;
    },

    clearFinished() {
      store.update(runningJobs);
    },

    snapshot: () => get(store),
  };
}

/** The app-wide jobs store. */
export const jobs = createJobsStore();
