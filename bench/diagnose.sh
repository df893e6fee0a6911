#!/usr/bin/env bash
# Benchmark of the live probes against a real local deployment (fixtures/live): a
# redis-server and python-socketio under uvicorn (subscribing to its Redis manager at startup,
# as the fixture's Open WebUI does), started here on free loopback ports.
# Prints medians and ratios; asserts nothing. Run: ./bench/diagnose.sh [runs]
#   - diagnose wall time on the healthy deployment (release build, fresh process per run)
#   - the individual probes (`wsdoctor redis`, `wsdoctor ws`, `wsdoctor docker`), their sum,
#     and diagnose / slowest probe (the concurrency ratio)
#   - diagnose against a dead Redis and a silent app with --timeout 1s
#   - `wsdoctor ws` against a server that never answers CONNECT, and `wsdoctor redis` against
#     a listener that never answers, each with --timeout 1s (one budget per probe)
#   - peak memory (max RSS) of diagnose
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
py="${WSDOCTOR_PYTHON:-$PWD/target/test-venv/bin/python}"
cargo build --release --quiet
bin=target/release/wsdoctor
pw=Live-Pw-7731

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port); aport=$(free_port); silent=$(free_port); dead=$(free_port); hang=$(free_port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
redis-server --port "$rport" --bind 127.0.0.1 --save '' --requirepass "$pw" --timeout 1800 >/dev/null &
pids+=($!)
"$py" tests/servers/socketio_server.py --port "$aport" --transports websocket --path ws/socket.io \
  --redis-url "redis://:$pw@127.0.0.1:$rport/0" --manager-at-startup >/dev/null 2>&1 &
pids+=($!)
"$py" tests/servers/socketio_server.py --port "$hang" --transports websocket --connect hangs >/dev/null 2>&1 &
pids+=($!)
"$py" -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$silent)); s.listen(64); time.sleep(3600)" &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$aport") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$rport") 2>/dev/null \
    && (exec 3<>/dev/tcp/127.0.0.1/"$hang") 2>/dev/null && break
  sleep 0.1
done
sleep 1

# median of a command's wall time in ms over $runs runs; also records the max RSS (KiB)
tfile=$(mktemp)
median_ms() {
  local times=() rss=0 t m
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%e %M' -o "$tfile" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    t=$(tail -1 "$tfile")
    times+=("$(( (t1 - t0) / 1000000 ))")
    m=$(awk '{print $2}' <<<"$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  MEDIAN=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  PEAK=$rss
}

export APP_PORT=$aport REDIS_PORT=$rport

median_ms "$bin" diagnose --project-dir fixtures/live --format json; d=$MEDIAN; dpeak=$PEAK
median_ms "$bin" redis "redis://:$pw@127.0.0.1:$rport/0" --workers 1 --format json; r=$MEDIAN
median_ms "$bin" ws "http://127.0.0.1:$aport" --path /ws/socket.io --format json; w=$MEDIAN
median_ms "$bin" docker --project live --project-dir fixtures/live --format json; k=$MEDIAN
sum=$((r + w + k)); slowest=$(printf '%s\n' "$r" "$w" "$k" | sort -n | tail -1)
echo "diagnose, healthy local deployment: median ${d} ms over $runs runs; peak RSS $((dpeak / 1024)) MiB"
echo "individual probes (fresh process each): redis ${r} ms, ws ${w} ms, docker ${k} ms; sum ${sum} ms; slowest ${slowest} ms"
awk -v d="$d" -v s="$slowest" -v t="$sum" 'BEGIN {printf "ratio diagnose / slowest probe: %.2f; diagnose / sum of probes: %.2f\n", d/s, d/t}'

export APP_PORT=$silent REDIS_PORT=$dead
median_ms "$bin" diagnose --project-dir fixtures/live --timeout 1s --format json; f=$MEDIAN
echo "diagnose, dead Redis + silent app, --timeout 1s: median ${f} ms"

median_ms "$bin" ws "http://127.0.0.1:$hang" --timeout 1s --format json; h=$MEDIAN
echo "ws, a server that never answers CONNECT, --timeout 1s: median ${h} ms (budget + $((h - 1000)) ms)"
median_ms "$bin" redis "redis://127.0.0.1:$silent/0" --timeout 1s --format json; g=$MEDIAN
echo "redis, a listener that never answers, --timeout 1s: median ${g} ms (budget + $((g - 1000)) ms)"
