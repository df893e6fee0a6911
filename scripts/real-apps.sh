#!/usr/bin/env bash
# Installs the real applications the real-app tests run (tests/real_*.rs) into cached venvs
# under ${WSDOCTOR_CACHE:-$HOME/.cache/wsdoctor}, outside any clone, so CI and every worktree
# reuse them. One function per venv; each venv carries a stamp file holding the sha256 of its
# requirements file and is (re)installed only when that hash differs.
#
# stdout: `export NAME=VALUE` lines for the tests (scripts/test.sh evals them);
# stderr: progress and timings. Fails loudly (non-zero exit) when an install fails.
# Needs: python3 (3.11 or 3.12 for Open WebUI 0.12) with venv and ensurepip, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${WSDOCTOR_CACHE:-$HOME/.cache/wsdoctor}"
python3="${WSDOCTOR_PYTHON3:-python3}"
mkdir -p "$cache"

log() { printf '== real-apps: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# ensure_venv DIR REQUIREMENTS MODULE...: DIR holds a venv with REQUIREMENTS installed and
# every MODULE importable, else it is created (with $VENV_PYTHON3, default python3) or
# updated (pip install -r into it) and the stamp rewritten.
ensure_venv() {
  local venv="$1" req="$2"
  shift 2
  local started hash imports
  started="$(now)"
  hash="$(sha256sum "$req" | cut -d' ' -f1)"
  imports="import $(IFS=,; echo "$*")"
  if [ "$(cat "$venv/.wsdoctor-stamp" 2>/dev/null)" = "$hash" ] &&
     "$venv/bin/python" -c "$imports" >/dev/null 2>&1; then
    log "$venv is up to date ($(since "$started"))"
    return 0
  fi
  if [ ! -x "$venv/bin/python" ]; then
    log "creating the venv $venv with ${VENV_PYTHON3:-$python3}"
    "${VENV_PYTHON3:-$python3}" -m venv "$venv"
  fi
  log "installing $req into $venv (pip, from PyPI; the first time can take minutes)"
  rm -f "$venv/.wsdoctor-stamp"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  if ! "$venv/bin/python" -c "$imports"; then
    log "FAILED: $venv cannot '$imports' after installing $req"
    return 1
  fi
  echo "$hash" > "$venv/.wsdoctor-stamp"
  log "$venv installed ($(since "$started"))"
}

# A Python that Open WebUI 0.12 installs on: Requires-Python >=3.11,<3.13 (its METADATA).
# Debian 12 ships 3.11; elsewhere set WSDOCTOR_OWUI_PYTHON3.
owui_python3() {
  local py
  for py in "${WSDOCTOR_OWUI_PYTHON3:-}" "$python3" python3.12 python3.11; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))'; then
      echo "$py"
      return 0
    fi
  done
  log "FAILED: Open WebUI 0.12 needs Python 3.11 or 3.12; none found (set WSDOCTOR_OWUI_PYTHON3)"
  return 1
}

# Open WebUI 0.12.4 (tests/real_openwebui.rs): torch and CUDA wheels included, about 7 GB and
# 8 minutes the first time.
openwebui() {
  local venv="$cache/owui" py
  py="$(owui_python3)"
  VENV_PYTHON3="$py" ensure_venv "$venv" tests/real_apps/requirements-openwebui.txt open_webui
  echo "export WSDOCTOR_OWUI_VENV=$venv"
}

# Chainlit, Flask-SocketIO, python-socketio with gunicorn/gevent/hypercorn/uvicorn
# (tests/real_apps.rs; owner: helper A2).
apps() {
  local venv="$cache/apps" req="$PWD/tests/real_apps/requirements-apps.txt" scratch
  # Importing chainlit writes .chainlit/ into the current directory: check from a scratch dir.
  scratch="$(mktemp -d)"
  (cd "$scratch" && ensure_venv "$venv" "$req" \
    chainlit flask_socketio socketio gunicorn gevent simple_websocket hypercorn uvicorn redis)
  rm -rf "$scratch"
  echo "export WSDOCTOR_APPS_VENV=$venv"
}

started_all="$(now)"
openwebui
apps
log "done ($(since "$started_all"))"
