import { describe, expect, it } from "vitest";
import { applyThemeFromQuery, parseTheme } from "./theme";

describe("theme", () => {
  it("parses only light and dark", () => {
    expect(parseTheme("dark")).toBe("dark");
    expect(parseTheme("light")).toBe("light");
    expect(parseTheme("blue")).toBeNull();
    expect(parseTheme(null)).toBeNull();
  });

  it("sets data-theme from ?theme= and leaves it alone otherwise", () => {
    const el = document.createElement("html");
    applyThemeFromQuery("?theme=dark", el);
    expect(el.dataset.theme).toBe("dark");
    applyThemeFromQuery("", el);
    expect(el.dataset.theme).toBe("dark");
    applyThemeFromQuery("?theme=nope", el);
    expect(el.dataset.theme).toBe("dark");
  });
});
