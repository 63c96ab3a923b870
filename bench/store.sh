#!/usr/bin/env bash
# bench/store.sh BUILD_DIR - the revocation store at 1M entries (docs/design.md
# 4, issue 3): in-process lookup latency with the new-version check
# (positive and negative), the same while a writer revokes 100 tokens a
# second, one `jwtrev revoke` into the store, `jwtrev load` of the 1M,
# bytes per entry; plus what a handle costs each process and what the
# revoke that folds a full delta into the base pays (a compaction).
# Entries from $BENCH_STORE_N (default 1000000).
set -euo pipefail
build=$(cd "${1:?usage: bench/store.sh BUILD_DIR}" && pwd)
n=${BENCH_STORE_N:-1000000}
lookups=${BENCH_STORE_LOOKUPS:-200000}

make -s -C "$build" bench/bench_store cli/jwtrev >&2
bench=$build/bench/bench_store
jwtrev=$build/cli/jwtrev
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S=$tmp/store

ns() { date +%s%N; }
# verdict MEASURED TARGET: ok when measured <= target.
verdict() { awk -v m="$1" -v t="$2" 'BEGIN { print (m <= t) ? "ok" : "OVER" }'; }
row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
us() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" | head -1; }

"$bench" gen "$n" >"$tmp/in.jsonl"
"$jwtrev" --db "$S" init >/dev/null
t0=$(ns)
"$jwtrev" --db "$S" load "$tmp/in.jsonl" >/dev/null
load_ms=$((($(ns) - t0) / 1000000))
bytes=$(du -sb "$S" | cut -f1)
per_entry=$(awk -v b="$bytes" -v n="$n" 'BEGIN { printf "%.1f", b / n }')

"$bench" lookup "$S" "$lookups" "$n" >"$tmp/lookup"
pos50=$(grep positive "$tmp/lookup" | field p50_ns)
pos99=$(grep positive "$tmp/lookup" | field p99_ns)
neg50=$(grep negative "$tmp/lookup" | field p50_ns)
neg99=$(grep negative "$tmp/lookup" | field p99_ns)
anon=$(field handle_anon_kb <"$tmp/lookup")

# The same lookups as an httpd child makes them when a jwtrevd owns the
# store: through the daemon's sealed snapshot, mapped.
make -s -C "$build" jwtrevd/jwtrevd >&2
printf 'db=%s\nsocket=%s\npurge_interval=0\nstate_dir=%s\n' "$S" "$tmp/d.sock" \
    "$tmp/state" >"$tmp/jwtrevd.conf"
chmod 600 "$tmp/jwtrevd.conf"
"$build/jwtrevd/jwtrevd" --config "$tmp/jwtrevd.conf" --foreground 2>"$tmp/d.log" &
dpid=$!
for i in $(seq 300); do
    ls -l "/proc/$dpid/fd" 2>/dev/null | grep -q 'memfd:jwtrev-base.db' && break
    sleep 0.1
done
BENCH_SNAPSHOTS=1 "$bench" lookup "$S" "$lookups" "$n" >"$tmp/snap"
kill "$dpid"
wait "$dpid" 2>/dev/null || true
rm -f "$S/daemon" # direct writes again for the rows below
spos50=$(grep positive "$tmp/snap" | field p50_ns)
spos99=$(grep positive "$tmp/snap" | field p99_ns)
sneg50=$(grep negative "$tmp/snap" | field p50_ns)
sanon=$(field handle_anon_kb <"$tmp/snap")

recent() { "$jwtrev" --db "$S" stats --json | sed 's/.*"recent":\([0-9]*\).*/\1/'; }
w0=$(recent)
"$bench" busy "$S" 5 100 "$n" >"$tmp/busy"
busy99=$(field p99_ns <"$tmp/busy")
wrate=$((($(recent) - w0) / 5))

# One revoke, as an administrator runs it: the whole process, wall time.
: >"$tmp/revoke"
for i in $(seq 1 21); do
    t0=$(ns)
    "$jwtrev" --db "$S" revoke --jti "bench-$i" --iss https://id.example.com >/dev/null
    echo $((($(ns) - t0) / 1000)) >>"$tmp/revoke"
done
rev_med=$(sort -n "$tmp/revoke" | sed -n 11p)
rev_max=$(sort -n "$tmp/revoke" | tail -1)
n_recent=$(recent)
t0=$(ns)
"$jwtrev" --db "$S" compact >/dev/null
compact_ms=$((($(ns) - t0) / 1000000))

echo "## revocation store ($n entries)"
echo
row figure target measured verdict
row --- --- --- ---
row "lookup p50, revoked token, reading the file (PAM; no jwtrevd)" "<= 2 us" "$(us "$pos50") us" "$(verdict "$pos50" 2000)"
row "lookup p99, revoked token, reading the file" "<= 10 us" "$(us "$pos99") us" "$(verdict "$pos99" 10000)"
row "lookup p50, token not revoked" "<= 2 us" "$(us "$neg50") us" "$(verdict "$neg50" 2000)"
row "lookup p99, token not revoked" "<= 10 us" "$(us "$neg99") us" "$(verdict "$neg99" 10000)"
row "lookup p50, revoked token, through jwtrevd's snapshot (httpd)" "<= 1.76 us" \
    "$(us "$spos50") us" "$(verdict "$spos50" 1760)"
row "lookup p99, revoked token, through jwtrevd's snapshot" "<= 10 us" \
    "$(us "$spos99") us" "$(verdict "$spos99" 10000)"
row "lookup p50, token not revoked, through the snapshot" "<= 0.33 us" \
    "$(us "$sneg50") us" "$(verdict "$sneg50" 330)"
row "heap of a reader handle, through the snapshot" "<= 2 MB" "$sanon kB" \
    "$(verdict "$sanon" 2048)"
row "lookup p99 while a writer revokes 100/s (it managed $wrate/s)" "<= 50 us" \
    "$(us "$busy99") us" "$(verdict "$busy99" 50000)"
row "\`jwtrev revoke\` wall, median of 21 (max)" "<= 20 ms" \
    "$(us "$rev_med") ms ($(us "$rev_max") ms)" "$(verdict "$rev_med" 20000)"
row "\`jwtrev load\` of $n entries" "<= 10 s" \
    "$(awk -v m="$load_ms" 'BEGIN { printf "%.2f", m / 1000 }') s" "$(verdict "$load_ms" 10000)"
row "store size per entry" "<= 100 B" "$per_entry B" "$(verdict "$per_entry" 100)"
row "heap of a reader handle per process, reading the file" "<= 2 MB" "$anon kB" "$(verdict "$anon" 2048)"
row "compact (paid by the revoke past the delta bound, $n_recent recent)" "-" \
    "$compact_ms ms" "info"
