import { describe, expect, it, vi } from "vitest";
import { get } from "svelte/store";
import { clampProgress, createJobsStore, runningJobs } from "./jobs";

function clock(start = 1000) {
  let t = start;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

describe("jobs store", () => {
  it("starts empty", () => {
    expect(get(createJobsStore())).toEqual([]);
  });

  it("adds running jobs with generated ids", () => {
    const c = clock();
    const s = createJobsStore(c.now);
    const a = s.add({ label: "Download", progress: 0.1 });
    const b = s.add({ label: "Collect" });
    expect(a).not.toBe(b);
    expect(get(s)).toEqual([
      { id: a, label: "Download", detail: null, progress: 0.1, status: "running", startedAt: 1000, finishedAt: null, error: null },
      { id: b, label: "Collect", detail: null, progress: null, status: "running", startedAt: 1000, finishedAt: null, error: null },
    ]);
  });

  it("accepts an explicit id but refuses duplicates", () => {
    const s = createJobsStore();
    expect(s.add({ id: "dl-1", label: "x" })).toBe("dl-1");
    expect(() => s.add({ id: "dl-1", label: "y" })).toThrow(/already exists/);
  });

  it("updates progress, label and detail; clamps progress", () => {
    const s = createJobsStore();
    const id = s.add({ label: "Download" });
    expect(s.update(id, { progress: 0.5, detail: "node-2" })).toBe(true);
    expect(s.snapshot()[0]).toMatchObject({ progress: 0.5, detail: "node-2", label: "Download" });
    s.update(id, { progress: 7 });
    expect(s.snapshot()[0].progress).toBe(1);
    s.update(id, { progress: -1, label: "Download (retry)" });
    expect(s.snapshot()[0]).toMatchObject({ progress: 0, label: "Download (retry)", detail: "node-2" });
    s.update(id, { detail: null, progress: null });
    expect(s.snapshot()[0]).toMatchObject({ progress: null, detail: null });
  });

  it("ignores updates to unknown or finished jobs", () => {
    const s = createJobsStore();
    expect(s.update("nope", { progress: 0.3 })).toBe(false);
    const id = s.add({ label: "x", progress: 0.2 });
    s.finish(id, { status: "failed", error: "network" });
    expect(s.update(id, { progress: 0.9 })).toBe(false);
    expect(s.snapshot()[0].progress).toBe(0.2);
  });

  it("finishes jobs with an outcome and time", () => {
    const c = clock();
    const s = createJobsStore(c.now);
    const ok = s.add({ label: "ok", progress: 0.3 });
    const bad = s.add({ label: "bad", progress: 0.3 });
    c.tick(250);
    expect(s.finish(ok)).toBe(true);
    expect(s.finish(bad, { status: "failed", error: "timed out" })).toBe(true);
    expect(s.finish(ok)).toBe(false);
    const [a, b] = s.snapshot();
    expect(a).toMatchObject({ status: "succeeded", progress: 1, finishedAt: 1250, error: null });
    expect(b).toMatchObject({ status: "failed", progress: 0.3, finishedAt: 1250, error: "timed out" });
    expect(s.finish("nope")).toBe(false);
  });

  it("lists running jobs and clears finished ones", () => {
    const s = createJobsStore();
    const a = s.add({ label: "a" });
    const b = s.add({ label: "b" });
    s.add({ label: "c" });
    s.finish(a);
    s.finish(b, { status: "cancelled" });
    expect(runningJobs(s.snapshot()).map((j) => j.label)).toEqual(["c"]);
    s.clearFinished();
    expect(s.snapshot().map((j) => j.label)).toEqual(["c"]);
  });

  it("removes jobs", () => {
    const s = createJobsStore();
    const a = s.add({ label: "a" });
    expect(s.remove(a)).toBe(true);
    expect(s.remove(a)).toBe(false);
    expect(s.snapshot()).toEqual([]);
  });

  it("notifies subscribers", () => {
    const s = createJobsStore();
    const seen: number[] = [];
    const unsub = s.subscribe((list) => seen.push(list.length));
    const id = s.add({ label: "a" });
    s.remove(id);
    unsub();
    s.add({ label: "b" });
    expect(seen).toEqual([0, 1, 0]);
  });

  it("clampProgress handles null and NaN", () => {
    expect(clampProgress(null)).toBeNull();
    expect(clampProgress(undefined)).toBeNull();
    expect(clampProgress(Number.NaN)).toBeNull();
    expect(clampProgress(0.25)).toBe(0.25);
  });

  it("cancels a running job through the function it was added with, and only while it runs", () => {
    const s = createJobsStore();
    const stop = vi.fn();
    const id = s.add({ label: "Download", cancel: stop });
    const plain = s.add({ label: "Render" });
    expect(s.cancellable(id)).toBe(true);
    expect(s.cancellable(plain)).toBe(false);
    expect(s.cancel(plain)).toBe(false);
    expect(s.cancel(id)).toBe(true);
    expect(stop).toHaveBeenCalledOnce();
    // The owner finishes it; a finished job is no longer cancellable.
    s.finish(id, { status: "cancelled" });
    expect(s.cancellable(id)).toBe(false);
    expect(s.cancel(id)).toBe(false);
    expect(stop).toHaveBeenCalledOnce();
    // The function is no state: the job objects stay as they were.
    expect(Object.keys(s.snapshot()[0]).sort()).toEqual(["detail", "error", "finishedAt", "id", "label", "progress", "startedAt", "status"]);
  });
});
