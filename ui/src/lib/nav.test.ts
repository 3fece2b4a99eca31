import { describe, expect, it } from "vitest";
import {
  SECTIONS,
  isActivationKey,
  isMacPlatform,
  moveIndex,
  parseSection,
  sectionForShortcut,
  shortcutLabel,
  type KeyLike,
} from "./nav";

const key = (k: Partial<KeyLike> & { key: string }): KeyLike => ({
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...k,
});

describe("sections", () => {
  it("are the four in sidebar order", () => {
    expect(SECTIONS).toEqual(["deployments", "library", "collect", "settings"]);
  });

  it("parses names", () => {
    expect(parseSection("library")).toBe("library");
    expect(parseSection(" Settings ")).toBe("settings");
    expect(parseSection("nope")).toBeNull();
    expect(parseSection(null)).toBeNull();
  });
});

describe("sectionForShortcut", () => {
  it("maps Ctrl+1..4 off macOS", () => {
    expect(sectionForShortcut(key({ key: "1", ctrlKey: true }), false)).toBe("deployments");
    expect(sectionForShortcut(key({ key: "2", ctrlKey: true }), false)).toBe("library");
    expect(sectionForShortcut(key({ key: "3", ctrlKey: true }), false)).toBe("collect");
    expect(sectionForShortcut(key({ key: "4", ctrlKey: true }), false)).toBe("settings");
  });

  it("maps Cmd+1..4 (and Ctrl) on macOS", () => {
    expect(sectionForShortcut(key({ key: "2", metaKey: true }), true)).toBe("library");
    expect(sectionForShortcut(key({ key: "4", ctrlKey: true }), true)).toBe("settings");
  });

  it("ignores Meta off macOS, bare digits, other digits and extra modifiers", () => {
    expect(sectionForShortcut(key({ key: "1", metaKey: true }), false)).toBeNull();
    expect(sectionForShortcut(key({ key: "1" }), false)).toBeNull();
    expect(sectionForShortcut(key({ key: "5", ctrlKey: true }), false)).toBeNull();
    expect(sectionForShortcut(key({ key: "0", ctrlKey: true }), false)).toBeNull();
    expect(sectionForShortcut(key({ key: "1", ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(sectionForShortcut(key({ key: "1", ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(sectionForShortcut(key({ key: "a", ctrlKey: true }), false)).toBeNull();
  });

  it("falls back to the physical key (AZERTY)", () => {
    expect(sectionForShortcut(key({ key: "&", code: "Digit1", ctrlKey: true }), false)).toBe("deployments");
    expect(sectionForShortcut(key({ key: "End", code: "Numpad3", ctrlKey: true }), false)).toBe("collect");
  });
});

describe("moveIndex (roving focus)", () => {
  it("moves down and up, wrapping", () => {
    expect(moveIndex(0, "ArrowDown", 4)).toBe(1);
    expect(moveIndex(3, "ArrowDown", 4)).toBe(0);
    expect(moveIndex(1, "ArrowUp", 4)).toBe(0);
    expect(moveIndex(0, "ArrowUp", 4)).toBe(3);
  });

  it("jumps with Home and End", () => {
    expect(moveIndex(2, "Home", 4)).toBe(0);
    expect(moveIndex(0, "End", 4)).toBe(3);
  });

  it("ignores other keys and empty lists", () => {
    expect(moveIndex(1, "ArrowLeft", 4)).toBeNull();
    expect(moveIndex(1, "a", 4)).toBeNull();
    expect(moveIndex(0, "ArrowDown", 0)).toBeNull();
  });

  it("clamps an out-of-range start", () => {
    expect(moveIndex(-1, "ArrowDown", 4)).toBe(1);
    expect(moveIndex(9, "ArrowUp", 4)).toBe(2);
  });
});

describe("helpers", () => {
  it("knows activation keys", () => {
    expect(isActivationKey("Enter")).toBe(true);
    expect(isActivationKey(" ")).toBe(true);
    expect(isActivationKey("Tab")).toBe(false);
  });

  it("detects macOS and labels shortcuts", () => {
    expect(isMacPlatform("MacIntel")).toBe(true);
    expect(isMacPlatform("Linux x86_64")).toBe(false);
    expect(isMacPlatform("Win32")).toBe(false);
    expect(shortcutLabel(0, false)).toBe("Ctrl 1");
    expect(shortcutLabel(3, true)).toBe("⌘4");
  });
});
