import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { isTauri } from "./lib/backend";
import { jobs } from "./lib/jobs";
import { parseSection } from "./lib/nav";
import { applyThemeFromQuery } from "./lib/theme";

const params = new URLSearchParams(location.search);
applyThemeFromQuery(location.search);

// Browser preview only: `?demo=jobs` fills the status area so its running
// state can be looked at without the Rust side.
if (!isTauri() && params.get("demo") === "jobs") {
  jobs.add({ label: "Downloading snapshot", detail: "iggy-prod · node-2", progress: 0.42 });
  jobs.add({ label: "Collecting this machine", progress: null });
}

const target = document.getElementById("app");
if (!target) throw new Error("#app element missing from index.html");

const app = mount(App, {
  target,
  props: { initialSection: parseSection(params.get("section")) ?? undefined },
});

export default app;
