#!/usr/bin/env python3
"""Runs the workspace's test binaries in two lanes (scripts/test calls it).

`cargo test` runs one test binary after the other. Most of ours take a second; the desktop
end-to-end ones take minutes, and `e2e_hostile` spends most of them holding hostile archives
open for 30 s while the machine idles. Here it runs in a lane of its own, beside the other
binaries:

- lane 1: `e2e_hostile` (its holds run two at a time inside it), then plain test binaries;
- lane 2: the other desktop binaries, one at a time (an ordinary desktop session never runs
  beside another ordinary one), then plain test binaries.

Each binary runs as `cargo test` would run it: from its package's directory, with the
`CARGO_*` variables cargo sets, and `--test-threads=2`. Its whole output is printed in one
block when it ends, under cargo's own `Running <source> (<binary>)` line, so that the log reads
like cargo's (scripts/lib.sh summarises it). Then the doc tests (`cargo test --doc`). Exits 1
if any binary or doc test failed, or a binary could not be run, after running all.

Usage: run-tests.py [cargo test options...]   (the binaries are built first, with --no-run)
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

# Binaries that drive the real app (or WebKit) under Xvfb. The paired one may run beside an
# ordinary one; two ordinary ones never run together.
PAIRED = {"e2e_hostile"}


def is_desktop(name: str) -> bool:
    return name.startswith("e2e_") or name == "report_page"


# Longest first (seconds on 2 cores, from the suite's log), so that the lanes end together.
EXPECTED = {
    "e2e_corpus": 72,
    "e2e_deployments": 42,
    "e2e_open": 17,
    "e2e_viewer": 13,
    "e2e_library": 12,
    "e2e_insight": 11,
    "e2e_shell": 9,
}


def binaries(cargo_args):
    """(package, target, kind, source, executable, package dir) of every test binary."""
    cmd = ["cargo", "test", "--no-run", "--message-format=json-render-diagnostics", *cargo_args]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True, text=True).stdout
    found = []
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        target = msg["target"]
        manifest = msg["manifest_path"]
        pkg_id = msg["package_id"]
        found.append(
            {
                "name": target["name"].replace("-", "_"),
                "kind": target["kind"][0],
                "src": os.path.relpath(target["src_path"], os.path.dirname(manifest)),
                "exe": msg["executable"],
                "dir": os.path.dirname(manifest),
                "package": package_name(pkg_id, manifest),
            }
        )
    return found


def package_name(pkg_id: str, manifest: str) -> str:
    # "path+file:///work/main/crates/snapdesk-api#0.1.0" or "snapdesk-api 0.1.0 (path+...)"
    if "#" in pkg_id:
        tail = pkg_id.rsplit("#", 1)[1]
        if "@" in tail:
            return tail.split("@", 1)[0]
        return os.path.basename(os.path.dirname(manifest))
    return pkg_id.split(" ", 1)[0]


def main() -> int:
    cargo_args = sys.argv[1:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    jobs = binaries(cargo_args)
    hostile = [j for j in jobs if j["name"] in PAIRED]
    desktop = sorted(
        (j for j in jobs if is_desktop(j["name"]) and j["name"] not in PAIRED),
        key=lambda j: -EXPECTED.get(j["name"], 5),
    )
    plain = [j for j in jobs if not is_desktop(j["name"])]
    lock = threading.Lock()
    failed = []
    started = time.monotonic()

    def run(job):
        env = dict(os.environ)
        env.update(
            {
                "CARGO_MANIFEST_DIR": job["dir"],
                "CARGO_PKG_NAME": job["package"],
                "CARGO_CRATE_NAME": job["name"],
            }
        )
        t = time.monotonic()
        with tempfile.TemporaryFile(mode="w+b") as out:
            code = subprocess.call(
                [job["exe"], "--test-threads=2"],
                cwd=job["dir"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        took = time.monotonic() - t
        exe = os.path.relpath(job["exe"], root)
        kind = "unittests " if job["kind"] in ("lib", "bin") else ""
        with lock:
            sys.stdout.write(f"     Running {kind}{job['src']} ({exe})\n{text}")
            sys.stdout.write(
                f"  ({job['name']}: {took:.1f} s, at {time.monotonic() - started:.0f} s)\n"
            )
            sys.stdout.flush()
            if code != 0:
                failed.append(f"{job['package']} {job['name']} (exit {code})")

    def take(queue):
        with lock:
            return queue.pop(0) if queue else None

    ran = []

    def lane(own):
        while True:
            job = take(own) or take(plain)
            if job is None:
                return
            # Whatever goes wrong here fails the run; the lane goes on with the next binary.
            try:
                run(job)
            except BaseException as e:  # noqa: BLE001
                with lock:
                    failed.append(f"{job['package']} {job['name']} (could not run: {e!r})")
            with lock:
                ran.append(job["name"])

    lanes = [threading.Thread(target=lane, args=(q,)) for q in (hostile, desktop)]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    if len(ran) != len(jobs):
        failed.append(f"only {len(ran)} of {len(jobs)} test binaries ran")
    # The documentation's examples, as `cargo test` runs them after the binaries.
    doc = subprocess.run(
        ["cargo", "test", "--doc", *cargo_args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    sys.stdout.write(doc.stdout.decode("utf-8", "replace"))
    if doc.returncode != 0:
        failed.append(f"doc tests (exit {doc.returncode})")
    if failed:
        sys.stdout.write("error: test binaries failed:\n  " + "\n  ".join(failed) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
