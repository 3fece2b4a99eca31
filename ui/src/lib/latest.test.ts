import { describe, expect, it } from "vitest";
import { latest } from "./latest";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("latest", () => {
  it("hands on the answer while the question is live", async () => {
    const d = deferred<number>();
    const got: unknown[] = [];
    latest(d.promise, (v) => got.push(v), (e) => got.push(e));
    d.resolve(7);
    await d.promise;
    expect(got).toEqual([7]);
  });

  it("hands on a failure as an AppError", async () => {
    const d = deferred<number>();
    const got: unknown[] = [];
    latest(d.promise, (v) => got.push(v), (e) => got.push(e));
    d.reject(new Error("boom"));
    await d.promise.catch(() => {});
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ message: "boom" });
    expect(typeof (got[0] as { code: unknown }).code).toBe("string");
  });

  it("drops the answer, or the failure, once cleaned up", async () => {
    const ok = deferred<number>();
    const bad = deferred<number>();
    const got: unknown[] = [];
    const stop1 = latest(ok.promise, (v) => got.push(v), (e) => got.push(e));
    const stop2 = latest(bad.promise, (v) => got.push(v), (e) => got.push(e));
    stop1();
    stop2();
    ok.resolve(1);
    bad.reject(new Error("late"));
    await ok.promise;
    await bad.promise.catch(() => {});
    expect(got).toEqual([]);
  });
});
