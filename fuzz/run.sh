#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR [SECONDS] - run every libFuzzer target built in
# BUILD_DIR/fuzz (fuzz_NAME) for SECONDS each (default 60), seeded by
# fuzz/seed_NAME.sh when there is one, one after the other.  Prints one
# line per target (runs, coverage, corpus) and exits non-zero when a
# target crashed, leaked or timed out; the input that did it is kept as
# BUILD_DIR/fuzz/crash-NAME-*.
set -euo pipefail
build=$(cd "${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

targets=$(find "$build/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x \
    2>/dev/null | sort)
if [ -z "$targets" ]; then
    echo "fuzz/run.sh: no fuzz targets in $build/fuzz (make fuzz-targets)" >&2
    exit 1
fi

# The last libFuzzer status line ("#N DONE cov: C ft: F corp: K/..."),
# as "runs N, cov C, ft F, corpus K".
summary() {
    awk '/^#[0-9]+/ && / cov: / { line = $0 }
        END {
            n = split(line, f, " ")
            runs = substr(f[1], 2)
            for (i = 1; i < n; i++) {
                if (f[i] == "cov:") cov = f[i + 1]
                if (f[i] == "ft:") ft = f[i + 1]
                if (f[i] == "corp:") { corp = f[i + 1]; sub(/\/.*/, "", corp) }
            }
            printf "runs %s, cov %s, ft %s, corpus %s", runs, cov, ft, corp
        }' "$1"
}

rc=0
for bin in $targets; do
    name=${bin##*/fuzz_}
    seeds=$scratch/seed-$name corpus=$scratch/corpus-$name
    mkdir -p "$seeds" "$corpus"
    if [ -x "$here/seed_$name.sh" ]; then
        "$here/seed_$name.sh" "$seeds" >/dev/null
    fi
    log=$scratch/$name.log
    status=ok
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz/crash-$name-" \
        "$corpus" "$seeds" >"$log" 2>&1; then
        status=FAILED
        rc=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' \
            "$log" | head -20 >&2 || true
    fi
    printf 'fuzz_%s: %s s, %s seeds, %s: %s\n' "$name" "$seconds" \
        "$(find "$seeds" -type f | wc -l)" "$(summary "$log")" "$status"
done
exit $rc
