#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, then runs it.
#   redis-server, nginx-light, haproxy, caddy, busybox-static (Debian), a Python venv with python-socketio
#   and uvicorn (PyPI) for the Socket.IO test servers, and the real apps (scripts/real-apps.sh).
# Idempotent: installs only what is missing. Fails loudly on any error.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # the CLI: a private CA for the TLS tests
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)   # kubectl (Debian: kubernetes-client). kube corpus: `kubectl kustomize` (offline); fixtures/k8s-*/make.sh
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)   # the proxy tests: HAProxy in front of python-socketio
command -v caddy >/dev/null 2>&1 || missing+=(caddy)       # the proxy tests: Caddy in front of python-socketio
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts redis-server and nginx as services on install; the tests start their own.

venv="${WSDOCTOR_VENV:-$PWD/target/test-venv}"
if ! "$venv/bin/python" -c 'import socketio, engineio, uvicorn, redis' >/dev/null 2>&1 || [ ! -x "$venv/bin/traefik" ]; then
  log "creating the Python venv for the Socket.IO test servers in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/servers/requirements.txt
fi
export WSDOCTOR_PYTHON="$venv/bin/python"

# The second, independent Socket.IO server (socketioxide, Rust) the ws tests run against.
# Its own project and lock file, built once here; the tests reuse the binary.
log "building the socketioxide test server"
cargo build --release --quiet --manifest-path test-servers/socketioxide/Cargo.toml \
  --target-dir target/test-servers
# The real apps (Open WebUI, Chainlit, Flask-SocketIO, python-socketio servers) in cached venvs
# outside the clone (scripts/real-apps.sh: minutes the first time, under 5 s when cached).
real_apps_env="$(scripts/real-apps.sh)"
eval "$real_apps_env"

export WSDOCTOR_CORPORA="${WSDOCTOR_CORPORA:-$PWD/../shared/corpora}"
[ -d "$WSDOCTOR_CORPORA" ] || log "WARNING: no corpora at $WSDOCTOR_CORPORA"

# The wheel in a fresh venv and the pre-commit hook under the real pre-commit (PyPI).
scripts/package-test.sh || { log "FAILED: scripts/package-test.sh"; exit 1; }

log "cargo test"
cargo test "$@"
