import { describe, expect, it, vi } from "vitest";
import { keyTarget, pageRows, revealOffset, VirtualWindow, windowRange } from "./windowing.svelte";

const SPEC = { rowH: 40, overscan: 5, fallbackHeight: 400 };

describe("windowRange", () => {
  it("draws the rows in view plus the overscan, within the list", () => {
    expect(windowRange(0, 400, 1000, SPEC)).toEqual({ first: 0, last: 15 });
    expect(windowRange(4000, 400, 1000, SPEC)).toEqual({ first: 95, last: 115 });
    expect(windowRange(39_800, 400, 1000, SPEC)).toEqual({ first: 990, last: 1000 });
  });

  it("counts a row cut by either edge as in view", () => {
    expect(windowRange(20, 400, 1000, { rowH: 40, overscan: 0 })).toEqual({ first: 0, last: 11 });
  });

  it("draws nothing for an empty list", () => {
    expect(windowRange(0, 400, 0, SPEC)).toEqual({ first: 0, last: 0 });
  });
});

describe("revealOffset", () => {
  it("leaves a row in view where it is", () => {
    expect(revealOffset(3, 0, 400, 40, "nearest")).toBe(0);
    expect(revealOffset(9, 0, 400, 40, "start")).toBe(0);
  });

  it("brings a row above the window to its top, either way", () => {
    expect(revealOffset(2, 400, 400, 40, "nearest")).toBe(80);
    expect(revealOffset(2, 400, 400, 40, "start")).toBe(80);
  });

  it("nearest: a row below the window ends at its bottom edge", () => {
    expect(revealOffset(10, 0, 400, 40, "nearest")).toBe(40);
    expect(revealOffset(50, 0, 400, 40, "nearest")).toBe(1640);
  });

  it("start: a row below the window comes up one row under the top", () => {
    expect(revealOffset(10, 0, 400, 40, "start")).toBe(360);
    expect(revealOffset(50, 0, 400, 40, "start")).toBe(1960);
  });
});

describe("keys", () => {
  it("a page is a viewport's worth less one row, at least one", () => {
    expect(pageRows(400, 40)).toBe(9);
    expect(pageRows(50, 40)).toBe(1);
  });

  it("moves by row, by page and to either end; other keys are not its", () => {
    expect(keyTarget("ArrowDown", 4, 100, 9)).toBe(5);
    expect(keyTarget("ArrowUp", 4, 100, 9)).toBe(3);
    expect(keyTarget("PageDown", 4, 100, 9)).toBe(13);
    expect(keyTarget("PageUp", 4, 100, 9)).toBe(-5);
    expect(keyTarget("Home", 4, 100, 9)).toBe(0);
    expect(keyTarget("End", 4, 100, 9)).toBe(99);
    expect(keyTarget("Enter", 4, 100, 9)).toBeNull();
    expect(keyTarget("toString", 4, 100, 9)).toBeNull();
  });
});

describe("VirtualWindow", () => {
  function setup(total = 1000) {
    let count = $state(total);
    const win = new VirtualWindow({ ...SPEC, total: () => count });
    const el = document.createElement("div");
    document.body.append(el);
    return { win, el, setCount: (n: number) => (count = n) };
  }

  it("uses the fallback height until the viewport has one (jsdom: none)", () => {
    const { win, el } = setup();
    const detach = win.viewport(el);
    expect(win.height).toBe(0);
    expect(win.viewH).toBe(400);
    expect([win.first, win.last]).toEqual([0, 15]);
    expect(win.page).toBe(9);
    detach();
    expect(win.element).toBeUndefined();
  });

  it("follows the row count", () => {
    const { win, setCount } = setup(1000);
    expect(win.spacer).toBe("height: 40000px; --row-h: 40px");
    expect(win.top(7)).toBe(280);
    setCount(3);
    expect(win.total).toBe(3);
    expect(win.last).toBe(3);
    expect(win.spacer).toBe("height: 120px; --row-h: 40px");
    expect(win.clamp(10)).toBe(2);
    expect(win.clamp(-1)).toBe(0);
  });

  it("follows the viewport's scroll offset until detached", () => {
    const { win, el } = setup();
    const detach = win.viewport(el);
    el.scrollTop = 4000;
    el.dispatchEvent(new Event("scroll"));
    expect(win.scrollTop).toBe(4000);
    expect([win.first, win.last]).toEqual([95, 115]);
    detach();
    el.scrollTop = 0;
    el.dispatchEvent(new Event("scroll"));
    expect(win.scrollTop).toBe(4000);
  });

  it("measures on the window's resize where there is no ResizeObserver", () => {
    vi.stubGlobal("ResizeObserver", undefined);
    const { win, el } = setup();
    const detach = win.viewport(el);
    Object.defineProperty(el, "clientHeight", { configurable: true, value: 800 });
    window.dispatchEvent(new Event("resize"));
    expect(win.viewH).toBe(800);
    expect(win.last).toBe(25);
    detach();
    Object.defineProperty(el, "clientHeight", { configurable: true, value: 200 });
    window.dispatchEvent(new Event("resize"));
    expect(win.viewH).toBe(800);
    vi.unstubAllGlobals();
  });

  it("measures with a ResizeObserver where there is one, and disconnects it", () => {
    const observed: Element[] = [];
    let notify = () => {};
    const disconnect = vi.fn();
    vi.stubGlobal(
      "ResizeObserver",
      class {
        constructor(cb: () => void) {
          notify = cb;
        }
        observe(el: Element) {
          observed.push(el);
        }
        disconnect = disconnect;
      },
    );
    const { win, el } = setup();
    const detach = win.viewport(el);
    expect(observed).toEqual([el]);
    Object.defineProperty(el, "clientHeight", { configurable: true, value: 120 });
    notify();
    expect(win.viewH).toBe(120);
    detach();
    expect(disconnect).toHaveBeenCalledOnce();
    vi.unstubAllGlobals();
  });

  it("reveals a row by scrolling the viewport, and resets to the top", () => {
    const { win, el } = setup();
    win.viewport(el);
    win.reveal(50);
    expect(win.scrollTop).toBe(1640);
    expect(el.scrollTop).toBe(1640);
    win.reveal(60, "start");
    expect(win.scrollTop).toBe(2360);
    expect(el.scrollTop).toBe(2360);
    win.reveal(59);
    expect(win.scrollTop).toBe(2360);
    win.reset();
    expect(win.scrollTop).toBe(0);
    expect(el.scrollTop).toBe(0);
  });

  it("turns a navigation key into a row within the list", () => {
    const { win } = setup(20);
    expect(win.keyTarget("End", 3)).toBe(19);
    expect(win.keyTarget("PageDown", 15)).toBe(19);
    expect(win.keyTarget("PageUp", 3)).toBe(0);
    expect(win.keyTarget("ArrowUp", 0)).toBe(0);
    expect(win.keyTarget("x", 3)).toBeNull();
  });
});
