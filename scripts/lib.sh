# Shared helpers for scripts/run and scripts/test. Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
# Pinned: tauri-driver for the desktop end-to-end tests.
TAURI_DRIVER_VERSION="2.1.0"
# Pinned: the Tauri CLI whose bundler builds the .deb (scripts/package only), matching tauri 2.12.
TAURI_CLI_VERSION="2.12.4"

# Debian packages: to build the app, to run it, and to test it headless.
BUILD_PKGS=(build-essential pkg-config libwebkit2gtk-4.1-dev ca-certificates curl)
TEST_PKGS=(xvfb xauth webkit2gtk-driver imagemagick dbus gnome-keyring keyutils
           unzip zip openssl iproute2 procps chromium xdotool xclip
           python3-gi gir1.2-webkit2-4.1)

# Each line says how long the script has run (bash's SECONDS), to see where the time goes.
log() { printf '\033[1;34m==>\033[0m [%ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install sudo or run as root)"; fi
}

# Installs the Debian packages in "$@" that are not installed yet.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get: install them by hand"
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_toolchains() {
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) first"
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 or newer first"
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20 or newer first"
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js $major is too old: 20 or newer is needed"
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# npm dependencies, reinstalled only when the lock file changed.
ensure_ui_deps() {
  local stamp="$ROOT/ui/node_modules/.snapdesk-lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/ui/package-lock.json" "$stamp"; then
    log "installing UI dependencies (npm ci)"
    (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/ui/package-lock.json" "$stamp"
  fi
}

build_ui() {
  log "building the UI"
  (cd "$ROOT/ui" && npm run --silent build)
}

ensure_tauri_driver() {
  local bin="$TOOLS/bin/tauri-driver"
  if [ -x "$bin" ] && "$bin" --help 2>/dev/null | grep -q "native-port" \
     && [ -f "$TOOLS/tauri-driver.version" ] && [ "$(cat "$TOOLS/tauri-driver.version")" = "$TAURI_DRIVER_VERSION" ]; then
    return 0
  fi
  log "installing tauri-driver $TAURI_DRIVER_VERSION into .tools/"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION" --root "$TOOLS" --quiet
  echo "$TAURI_DRIVER_VERSION" > "$TOOLS/tauri-driver.version"
}

ensure_tauri_cli() {
  local bin="$TOOLS/bin/cargo-tauri"
  if [ -x "$bin" ] && [ -f "$TOOLS/tauri-cli.version" ] \
     && [ "$(cat "$TOOLS/tauri-cli.version")" = "$TAURI_CLI_VERSION" ]; then
    return 0
  fi
  log "installing the Tauri CLI $TAURI_CLI_VERSION into .tools/ (once; it takes a while)"
  cargo install tauri-cli --locked --version "$TAURI_CLI_VERSION" --root "$TOOLS" --quiet
  echo "$TAURI_CLI_VERSION" > "$TOOLS/tauri-cli.version"
}

# The build and the tests need room in target/: a clean CI build of the workspace and its test
# binaries takes 3.5 GB (measured; scripts/test builds lean under CI), a local one about 6.5 GB
# (incremental data, debug sections), and the tests' temp files a few hundred MB more.
# Says so up front, with the figures, rather than failing deep in a compile.
check_disk_space() {
  mkdir -p "$ROOT/target"
  local avail_kb used_kb need_kb gb=7
  is_ci && gb=4
  # Only a figure to print: a file that vanishes under du (a build beside it) or a df that
  # cannot tell must not stop the run.
  avail_kb=$(df -Pk "$ROOT/target" 2>/dev/null | awk 'NR == 2 { print $4 }') || true
  used_kb=$(du -skL "$ROOT/target" 2>/dev/null | awk '{ print $1 }') || true
  avail_kb=${avail_kb:-0} used_kb=${used_kb:-0}
  [ "$avail_kb" -gt 0 ] || return 0
  need_kb=$(( gb * 1024 * 1024 - used_kb ))
  log "disk: $(( avail_kb / 1024 )) MB free where target/ is ($(( used_kb / 1024 )) MB used by it)"
  if [ "$need_kb" -gt "$avail_kb" ]; then
    printf '\033[1;33mwarning:\033[0m a clean build needs about %s GB in target/; only %s MB are free: the build may fail with "No space left on device"\n' \
      "$gb" "$(( avail_kb / 1024 ))" >&2
  fi
}

# Whether this is CI (CI=true or CI=1), as tests/src/skip.rs decides it.
is_ci() {
  case "${CI:-}" in true|TRUE|True|1) return 0 ;; *) return 1 ;; esac
}

# "target package" lines for every test target of the workspace: the library, binary and
# bench names of each package's Cargo.toml and the stems of its tests/*.rs, with '-' as '_'
# (as cargo names the test binaries).
test_targets() {
  local dir pkg f
  for dir in "$ROOT"/crates/* "$ROOT/src-tauri" "$ROOT/tests"; do
    [ -f "$dir/Cargo.toml" ] || continue
    pkg=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | head -n1)
    sed -n 's/^name *= *"\(.*\)"/\1/p' "$dir/Cargo.toml" | while read -r t; do
      echo "${t//-/_} $pkg"
    done
    for f in "$dir"/tests/*.rs; do
      [ -f "$f" ] && echo "$(basename "$f" .rs | tr - _) $pkg"
    done
  done
}

# Prints tests passed, failed, ignored and skipped per package from a `cargo test` log, and
# sets TESTS_SKIPPED. A skipped test is one that printed a `SKIPPED: <test>: <reason>` line
# (tests/src/skip.rs): cargo counts it as passed, so it is taken out of "passed" here.
summarize_tests() {
  local log_file="$1" map
  map="$(mktemp)"
  test_targets > "$map"
  log "tests per package (passed / failed / ignored / skipped)"
  TESTS_SKIPPED=$(awk -v mapfile="$map" '
    BEGIN {
      while ((getline line < mapfile) > 0) { split(line, kv, " "); pkg_of[kv[1]] = kv[2] }
    }
    function package(target) { return (target in pkg_of) ? pkg_of[target] : "?" target }
    # "Running tests/api.rs (target/debug/deps/api-0123abcd)" or "Doc-tests snapdesk_core"
    /^ *Running / {
      bin = $NF; sub(/\)$/, "", bin); sub(/.*\//, "", bin); sub(/-[0-9a-f]+$/, "", bin)
      cur = package(bin); seen[cur] = 1; next
    }
    /^ *Doc-tests / { cur = package($2); seen[cur] = 1; next }
    # Anywhere in the line: with one test thread, libtest has already printed "test x ... ".
    # A test that skips several comparisons counts once.
    match($0, /SKIPPED: [^ ]+: /) {
      name = substr($0, RSTART + 9, RLENGTH - 11)
      if (!((cur, name) in once)) { once[cur, name] = 1; skipped[cur]++; total_skipped++ }
    }
    /^test result: / {
      for (i = 1; i <= NF; i++) {
        v = $i + 0; w = $(i + 1); sub(/[;,]$/, "", w)
        if (w == "passed") passed[cur] += v
        else if (w == "failed") failed[cur] += v
        else if (w == "ignored") ignored[cur] += v
      }
    }
    END {
      n = 0
      for (p in seen) names[++n] = p
      for (i = 2; i <= n; i++) {          # insertion sort: awk has no portable sort
        x = names[i]; j = i - 1
        while (j > 0 && names[j] > x) { names[j + 1] = names[j]; j-- }
        names[j + 1] = x
      }
      for (i = 1; i <= n; i++) {
        p = names[i]
        ran = passed[p] - skipped[p]
        printf "  %-20s %5d passed %4d failed %4d ignored %4d skipped\n", p, ran, failed[p] + 0, ignored[p] + 0, skipped[p] + 0 > "/dev/stderr"
        tp += ran; tf += failed[p]; ti += ignored[p]
      }
      printf "  %-20s %5d passed %4d failed %4d ignored %4d skipped\n", "total", tp, tf, ti, total_skipped + 0 > "/dev/stderr"
      print total_skipped + 0
    }
  ' "$log_file")
  rm -f "$map"
}
