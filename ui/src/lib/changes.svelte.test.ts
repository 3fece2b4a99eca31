import { describe, expect, it } from "vitest";
import { flushSync } from "svelte";
import { writable } from "svelte/store";
import { onBump } from "./changes.svelte";

describe("onBump", () => {
  it("runs on each bump after setup, not for the value it starts from, and stops with its owner", () => {
    const version = writable(3);
    let runs = 0;
    const destroy = $effect.root(() => onBump(() => version, () => runs++));
    flushSync();
    expect(runs).toBe(0);

    version.set(4);
    flushSync();
    expect(runs).toBe(1);

    version.update((v) => v + 1);
    version.update((v) => v + 1);
    flushSync();
    expect(runs).toBe(2);

    destroy();
    version.set(10);
    flushSync();
    expect(runs).toBe(2);
  });

  it("does not run again for what `then` reads", () => {
    const version = writable(0);
    let other = $state(0);
    let runs = 0;
    const destroy = $effect.root(() =>
      onBump(() => version, () => {
        void other;
        runs++;
      }),
    );
    version.set(1);
    flushSync();
    other = 1;
    flushSync();
    expect(runs).toBe(1);
    destroy();
  });
});
