#!/usr/bin/env bash
# Builds fuzz/seeds/<target>/ (git-ignored): the compose and .env files of the shared corpora
# ($WSDOCTOR_CORPORA, default ../../shared/corpora from the worktree: see its README), the
# compose-go interpolation cases, and a few hand-written shapes per target. The fuzzers run
# without seeds too; seeds only get them to deep code sooner.
set -eu
cd "$(dirname "$0")"
corpora=${WSDOCTOR_CORPORA:-../../shared/corpora}
mkdir -p seeds/{dotenv,interpolate,compose,redis_url,engineio_codec,redis_replies,ws_classifier}
if [ -d "$corpora" ]; then
  cp "$corpora"/compose/*.y*ml "$corpora"/compose/compose-go-inline/*.y*ml seeds/compose/ 2>/dev/null || true
  cp "$corpora"/dotenv/examples/* "$corpora"/dotenv/compose-testdata/* seeds/dotenv/ 2>/dev/null || true
  cp "$corpora"/dotenv/compose-go-fixtures/*.env seeds/dotenv/ 2>/dev/null || true
else
  echo "no corpora at $corpora: compose and dotenv start from the kept inputs only" >&2
fi
# The kept regression inputs are good seeds too.
for t in seeds/*; do cp ../tests/fuzz_corpus/"$(basename "$t")"/* "$t"/ 2>/dev/null || true; done
python3 - "$corpora" <<'PY'
import glob, json, sys
corpora = sys.argv[1]
n = 0
for f in glob.glob(f'{corpora}/dotenv/compose-go-cases/*.json'):
    try:
        cases = json.load(open(f))
    except Exception:
        continue
    for c in cases if isinstance(cases, list) else []:
        for v in (c.values() if isinstance(c, dict) else []):
            if isinstance(v, str) and '$' in v:
                n += 1
                open(f'seeds/interpolate/case-{n}', 'w').write(v)
def w(t, name, b):
    open(f'seeds/{t}/{name}', 'wb').write(b if isinstance(b, bytes) else b.encode())
for i, u in enumerate(["redis://:p@ss#w0rd@redis:6379/0", "rediss://user:pw@host:6380/2?ssl_cert_reqs=none",
                       "redis://[::1]:6379", "redis+sentinel://:pw@s1:26379,s2:26379/mymaster/0",
                       "unix:///tmp/redis.sock?db=1", "redis://localhost", "redis://u:p%40x@h/15", "valkey://h:1/0"]):
    w('redis_url', f'url-{i}', u)
for i, p in enumerate(['0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}\x1e40{"sid":"x"}',
                       '96:0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":60000}2:40',
                       '44{"message":"unauthorized"}', '44/admin,"nope"', '{"code":0,"message":"Transport unknown"}',
                       '1b\r\n"Invalid websocket upgrade"\r\n0\r\n\r\n']):
    w('engineio_codec', f'packet-{i}', p)
w('redis_replies', 'info', "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n# Clients\r\nconnected_clients:3\r\nmaxclients:10000\r\n")
w('redis_replies', 'client-list', "id=3 addr=127.0.0.1:5555 laddr=127.0.0.1:6379 fd=8 name= age=10 idle=0 flags=N db=0 sub=1 psub=0 ssub=0 multi=-1 qbuf=26 cmd=client|list user=default redir=-1 resp=2\nid=4 addr=10.0.0.2:4444 fd=9 age=1000 idle=999 flags=P db=0 sub=0 psub=2 cmd=psubscribe\n")
w('redis_replies', 'cluster-nodes', "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002,hostname master - 0 1426238316232 2 connected 5461-10922\n")
PY
for d in seeds/*; do echo "$d: $(ls "$d" | wc -l) seeds"; done
