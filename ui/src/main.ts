import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { backend, isTauri } from "./lib/backend";
import { jobs } from "./lib/jobs";
import { library } from "./lib/library";
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

// Browser preview only: `?demo=library` opens two fake archives.
if (!isTauri() && params.get("demo") === "library") {
  const paths = [
    "/home/me/Downloads/report-20260531-221512-node-2-unredacted.zip",
    "/home/me/snapshots/snapshot-20260601-103000-node-1.zip",
  ];
  void (async () => {
    for (const p of paths) library.add(await backend.openArchive(p));
  })();
}

const target = document.getElementById("app");
if (!target) throw new Error("#app element missing from index.html");

const app = mount(App, {
  target,
  props: { initialSection: parseSection(params.get("section")) ?? undefined },
});

// The first frame painted with the app in it: two animation frames after mounting (the
// first runs before that paint). `scripts/bench-package` measures process start to here.
requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("snapdesk-first-paint")));

export default app;
