#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) each, JOBS (default 2) at a time, on stable
# Rust (`-s none`: no sanitizer; panics, hangs > 5 s and allocations > 2 GiB are still caught).
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]      logs in fuzz/logs/<target>.log
set -u
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(compose dotenv redis_url engineio_codec ws_classifier redis_replies interpolate)
jobs=${JOBS:-2}
mkdir -p logs
[ -d seeds ] || ./seed.sh
cargo fuzz build -s none -a || exit 1
run_one() {
  local t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  cargo fuzz run -s none -a "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=5 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" > "logs/$t.log" 2>&1
  echo "$t exit $? $(grep -E '^Done|stat::number_of_executed_units' "logs/$t.log" | tr '\n' ' ')"
}
export -f run_one
export seconds
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
