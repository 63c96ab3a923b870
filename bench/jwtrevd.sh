#!/usr/bin/env bash
# bench/jwtrevd.sh BUILD_DIR - jwtrevd at 1M entries (docs/design.md 7):
# a revocation through the daemon next to a direct one (jwtrev revoke,
# whole process, same store, same run), the request alone at the socket,
# and the requests made while the daemon folds the whole store (target:
# p99 <= 20 ms: a logout never waits for a compaction).
# Entries from $BENCH_STORE_N (default 1000000).
set -euo pipefail
build=$(cd "${1:?usage: bench/jwtrevd.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_STORE_N:-1000000}

make -s -C "$build" bench/bench_store cli/jwtrev jwtrevd/jwtrevd >&2
jwtrev=$build/cli/jwtrev
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
S=$tmp/store
SOCK=$tmp/jwtrevd.sock

ns() { date +%s%N; }
verdict() { awk -v m="$1" -v t="$2" 'BEGIN { print (m <= t) ? "ok" : "OVER" }'; }
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }
field() { sed -n "s/.*$1=\([0-9-]*\).*/\1/p" | head -1; }

"$build/bench/bench_store" gen "$n" >"$tmp/in.jsonl"
"$jwtrev" --db "$S" init >/dev/null
"$jwtrev" --db "$S" load "$tmp/in.jsonl" >/dev/null

# median_wall LABEL: 21 `jwtrev revoke` runs, the median in us
median_wall() {
    : >"$tmp/w"
    for i in $(seq 1 21); do
        t0=$(ns)
        "$jwtrev" --db "$S" revoke --jti "$1-$i" --iss https://bench >/dev/null
        echo $((($(ns) - t0) / 1000)) >>"$tmp/w"
    done
    sort -n "$tmp/w" | sed -n 11p
}
direct=$(median_wall direct)
printf 'db=%s\nsocket=%s\npurge_interval=0\nfold_at=100000000\n' "$S" "$SOCK" \
    >"$tmp/jwtrevd.conf"
chmod 600 "$tmp/jwtrevd.conf"
"$build/jwtrevd/jwtrevd" --config "$tmp/jwtrevd.conf" --foreground 2>"$tmp/d.log" &
dpid=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
via=$(median_wall via)
/usr/bin/python3 "$here/jwtrevd_lat.py" "$SOCK" 200 50 >"$tmp/idle"
/usr/bin/python3 "$here/jwtrevd_lat.py" "$SOCK" 0 50 compact >"$tmp/fold"
kill "$dpid"
wait "$dpid" 2>/dev/null || true
dpid=

i50=$(field p50_us <"$tmp/idle")
i99=$(field p99_us <"$tmp/idle")
f50=$(field p50_us <"$tmp/fold")
f99=$(field p99_us <"$tmp/fold")
fmax=$(field max_us <"$tmp/fold")
fn=$(field n <"$tmp/fold")
fms=$(field compact_ms <"$tmp/fold")

echo "## jwtrevd ($n entries)"
echo
row figure target measured verdict
row --- --- --- ---
row "\`jwtrev revoke\` wall, median of 21: direct" "-" "$(ms "$direct") ms" info
row "\`jwtrev revoke\` wall, median of 21: through jwtrevd" "-" \
    "$(ms "$via") ms ($(awk -v a="$via" -v b="$direct" 'BEGIN { printf "%.2f", a / b }') x direct)" info
row "revoke at the socket, 200 at 50/s: p50 (p99)" "-" \
    "$(ms "$i50") ms ($(ms "$i99") ms)" info
row "revoke while the daemon folds $n entries ($fms ms): p99, $fn requests" \
    "<= 20 ms" "$(ms "$f99") ms (p50 $(ms "$f50"), max $(ms "$fmax"))" \
    "$(verdict "$f99" 20000)"
