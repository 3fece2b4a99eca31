# Shared helpers for scripts/run and scripts/test. Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
# Pinned: tauri-driver for the desktop end-to-end tests.
TAURI_DRIVER_VERSION="2.1.0"

# Debian packages: to build the app, to run it, and to test it headless.
BUILD_PKGS=(build-essential pkg-config libwebkit2gtk-4.1-dev ca-certificates curl)
TEST_PKGS=(xvfb xauth webkit2gtk-driver imagemagick dbus gnome-keyring keyutils
           unzip zip openssl iproute2 procps chromium)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
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
