export type ThemeOverride = "light" | "dark";

export function parseTheme(x: string | null | undefined): ThemeOverride | null {
  return x === "light" || x === "dark" ? x : null;
}

/**
 * Apply `?theme=light|dark` to `<html data-theme>`. Without it the theme
 * follows the OS (prefers-color-scheme); an existing attribute is kept.
 */
export function applyThemeFromQuery(search: string, root: HTMLElement = document.documentElement): void {
  const theme = parseTheme(new URLSearchParams(search).get("theme"));
  if (theme) root.dataset.theme = theme;
}
