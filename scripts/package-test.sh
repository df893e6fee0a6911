#!/usr/bin/env bash
# Installs wsdoctor the ways its users do, and runs it:
#   1. builds the wheel with maturin (pyproject.toml, bindings = "bin"), reusing target/release;
#   2. installs the wheel into a FRESH venv and runs `wsdoctor --version` and a lint of the seed
#      bug (exit 1 expected); `pipx install .` gives a wsdoctor that runs too;
#   3. runs the real pre-commit against a fixture git repository (fixtures/pre-commit-repo) whose
#      .pre-commit-config.yaml points at this repository at HEAD: pre-commit clones it, builds the
#      hook's venv with `pip install .` (maturin from PyPI, crates from crates.io), and the
#      wsdoctor-lint hook must FAIL on the seed bug, pass on the fixed file, skip other files, and
#      block a real `git commit`.
# maturin, pipx and pre-commit come from PyPI into cached venvs under ${WSDOCTOR_CACHE:-$HOME/.cache/wsdoctor},
# outside the clone, and so does pre-commit's store (PRE_COMMIT_HOME).
# stderr: progress and timings. Fails loudly (non-zero exit) on any unexpected result.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

cache="${WSDOCTOR_CACHE:-$HOME/.cache/wsdoctor}"
python3="${WSDOCTOR_PYTHON3:-python3}"
# Pinned so CI is repeatable; maturin within pyproject.toml's "maturin>=1,<2".
maturin_spec="maturin==1.16.0"
pre_commit_spec="pre-commit==4.7.0"
pipx_spec="pipx==1.18.4"
mkdir -p "$cache"

log() { printf '== package-test: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
started_all="$(now)"

work="$(mktemp -d "${TMPDIR:-/tmp}/wsdoctor-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# tool_venv DIR SPEC: DIR holds a venv with SPEC installed (a stamp file holds SPEC).
tool_venv() {
  local venv="$1" spec="$2" started
  started="$(now)"
  if [ "$(cat "$venv/.wsdoctor-stamp" 2>/dev/null)" = "$spec" ] && [ -x "$venv/bin/python" ]; then
    return 0
  fi
  log "installing $spec into $venv (PyPI)"
  rm -rf "$venv"
  "$python3" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$spec"
  echo "$spec" > "$venv/.wsdoctor-stamp"
  log "$spec installed ($(since "$started"))"
}

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
[ -n "$version" ] || fail "no version in Cargo.toml"

# --- 1. the wheel -------------------------------------------------------------------------
tool_venv "$cache/maturin" "$maturin_spec"
started="$(now)"
# In the repository's own target dir: a `cargo build --release` done before is reused (only the
# final link differs: pyproject.toml strips symbols).
"$cache/maturin/bin/maturin" build --release --quiet --out "$work/wheels" >&2 ||
  fail "maturin build"
wheels=("$work"/wheels/wsdoctor-"$version"-py3-none-*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] ||
  fail "expected one wheel wsdoctor-$version-py3-none-*.whl, got: $(ls "$work/wheels")"
wheel="${wheels[0]}"
log "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $(since "$started")"

# --- 2. a fresh venv, the wheel, the command ------------------------------------------------
started="$(now)"
"$python3" -m venv "$work/venv"
# --no-index: the wheel alone, nothing fetched (it has no dependencies).
"$work/venv/bin/pip" install -q --disable-pip-version-check --no-index "$wheel"
got="$("$work/venv/bin/wsdoctor" --version)"
[ "$got" = "wsdoctor $version" ] || fail "wsdoctor --version printed '$got', expected 'wsdoctor $version'"
# As a user runs it: the venv's bin on PATH, from another directory.
set +e
out="$(cd "$work" && PATH="$work/venv/bin:$PATH" wsdoctor lint --color never \
  --project-dir "$repo/fixtures/seed-wrong-host" 2>&1)"
code=$?
set -e
[ "$code" -eq 1 ] || fail "installed wsdoctor lint on the seed bug exited $code, expected 1: $out"
grep -q "FAIL config.redis-url-host" <<<"$out" ||
  fail "installed wsdoctor lint did not report config.redis-url-host: $out"
log "fresh venv: pip install of the wheel, --version and lint of the seed bug ok ($(since "$started"))"

# --- 2b. pipx install . (pip builds in the tree, so target/release is reused) ----------------
tool_venv "$cache/pipx" "$pipx_spec"
started="$(now)"
(cd "$work" && PIPX_HOME="$work/pipx-home" PIPX_BIN_DIR="$work/pipx-bin" \
  "$cache/pipx/bin/pipx" install --quiet "$repo") >&2 || fail "pipx install $repo"
got="$("$work/pipx-bin/wsdoctor" --version)"
[ "$got" = "wsdoctor $version" ] || fail "pipx's wsdoctor --version printed '$got'"
log "pipx install . gives wsdoctor on PATH ($(since "$started"))"

# --- 3. the pre-commit hook under the real pre-commit --------------------------------------
tool_venv "$cache/pre-commit" "$pre_commit_spec"
pre_commit="$cache/pre-commit/bin/pre-commit"
"$pre_commit" validate-manifest .pre-commit-hooks.yaml || fail ".pre-commit-hooks.yaml is not a valid manifest"

rev="$(git rev-parse HEAD)"
if [ -n "$(git status --porcelain -- .pre-commit-hooks.yaml pyproject.toml Cargo.toml Cargo.lock src)" ]; then
  log "NOTE: uncommitted changes: pre-commit installs the hook from commit $rev, without them"
fi

# At a fixed path in the cache (made anew each run): pre-commit remembers the config files it
# ran with, so `pre-commit gc` below keeps this rev's hook and drops those of older revs.
hookrepo="$cache/pre-commit-fixture"
rm -rf "$hookrepo"
mkdir -p "$hookrepo"
cp -a fixtures/pre-commit-repo/. "$hookrepo/"
rm -rf "$hookrepo/fixed"
printf '# A project that uses the wsdoctor-lint pre-commit hook.\n' > "$hookrepo/README.md"
cat > "$hookrepo/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $repo
    rev: $rev
    hooks:
      - id: wsdoctor-lint
EOF
git_fixture() { git -C "$hookrepo" -c user.name=fixture -c user.email=fixture@example.invalid "$@"; }
git_fixture init -q
git_fixture add -A

# pre-commit's store (its clones and hook venvs) is cached per rev. The hook's cargo build uses
# this repository's target dir, so the release build of the dependencies above is reused (a
# target dir of its own would rebuild them all: minutes and 600 MB). The crate itself is rebuilt
# from the clone into the same slot; with uncommitted changes that build would then look fresh
# to this work tree's next cargo build, so the changed files are touched to be rebuilt.
export PRE_COMMIT_HOME="$cache/pre-commit-home"
export CARGO_TARGET_DIR="$repo/target"
started="$(now)"
(cd "$hookrepo" && "$pre_commit" install-hooks) >&2 || fail "pre-commit could not install the wsdoctor-lint hook"
log "pre-commit installed the hook from $rev ($(since "$started"))"
(cd "$hookrepo" && "$pre_commit" gc) >&2
unset CARGO_TARGET_DIR
git diff --name-only --diff-filter=d -z HEAD -- src Cargo.toml Cargo.lock | xargs -0 -r touch

# run_hook EXPECTED_EXIT ARGS...: pre-commit run, its output in $hook_out.
run_hook() {
  local expected="$1" code
  shift
  set +e
  hook_out="$(cd "$hookrepo" && "$pre_commit" run --color never "$@" 2>&1)"
  code=$?
  set -e
  [ "$code" -eq "$expected" ] || fail "pre-commit run $* exited $code, expected $expected:
$hook_out"
}

started="$(now)"
run_hook 1 --all-files
grep -q '^wsdoctor lint.*Failed' <<<"$hook_out" || fail "the hook did not fail on the seed bug: $hook_out"
grep -q 'config.redis-url-host' <<<"$hook_out" || fail "the hook's output does not name config.redis-url-host: $hook_out"
grep -q 'fixture-only-3b9f' <<<"$hook_out" && fail "the hook printed the .env password: $hook_out"
log "hook FAILS on the seed bug ($(since "$started"))"

run_hook 0 --files README.md
grep -q '^wsdoctor lint.*Skipped' <<<"$hook_out" || fail "the hook ran on README.md alone: $hook_out"

# A real commit through the installed git hook is blocked by the seed bug.
(cd "$hookrepo" && "$pre_commit" install -q) >/dev/null 2>&1 || (cd "$hookrepo" && "$pre_commit" install >&2)
if git_fixture commit -q -m "seed bug" >"$work/commit.log" 2>&1; then
  fail "git commit with the seed bug was not blocked by the hook: $(cat "$work/commit.log")"
fi
grep -q 'config.redis-url-host' "$work/commit.log" || fail "the blocked commit does not say why: $(cat "$work/commit.log")"

cp fixtures/pre-commit-repo/fixed/compose.yaml "$hookrepo/compose.yaml"
git_fixture add compose.yaml
run_hook 0 --all-files
grep -q '^wsdoctor lint.*Passed' <<<"$hook_out" || fail "the hook did not pass on the fixed file: $hook_out"
git_fixture commit -q -m "fixed" >"$work/commit.log" 2>&1 ||
  fail "git commit of the fixed file was blocked: $(cat "$work/commit.log")"
log "hook passes on the fixed file, skips other files, blocks then lets the commit through"

log "all passed in $(since "$started_all")"
