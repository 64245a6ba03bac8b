#!/usr/bin/env bash
# The 16-core figures in one prepared run, for a session lent the 16-core machine (the `device`
# tool). Nothing can be built or installed there, so build here first and carry the binaries:
#
#   cargo build --release -p clearway-harness && cargo bench -p clearway-benches --no-run
#   mkdir -p .device && cp target/release/clearway scripts/device.sh .device/
#   for b in switch stage_ledger stage_authorize stage_route store; do
#       cp "$(ls -t target/release/deps/$b-* | grep -v '\.d$' | head -1)" .device/$b; done
#
# then run `bash .device/device.sh` there with carry [".device"] and a timeout of about 420 s.
# Every result lands in $OUT: one JSON summary and one text summary per run, the benches' output.
cd "$(dirname "$0")"
export PATH=.:$PATH
(nproc; grep -m1 "model name" /proc/cpuinfo; free -g | head -2) > "$OUT/machine.txt" 2>&1
batches=/tmp/batches
run() {
    local name=$1
    shift
    timeout 60 ./clearway run --out "$batches" "$@" --json "$OUT/$name.json" > "$OUT/$name.txt" 2>&1
    echo "$name rc=$?" >> "$OUT/index.txt"
}
run default
for round in 1 2; do
    run "max-hmac-ring-$round" --rate max --duration 4 --no-replay --transport ring
    run "max-hmac-channel-$round" --rate max --duration 4 --no-replay --transport channel
done
run max-none-ring --rate max --duration 4 --no-replay --mac none --transport ring
run max-none-channel --rate max --duration 4 --no-replay --mac none --transport channel
run max-fused --rate max --duration 4 --no-replay --topology fused
run rate1m-ring --rate 1000000 --duration 4 --no-replay
# Memory by time: the store writer and the prefetch on threads of their own, at saturation, and
# the payment store's own figures on this disk.
run max-retention-10m --rate max --duration 4 --no-replay --retention 10m
timeout 60 ./store figures 2000000 > "$OUT/bench-store.txt" 2>&1
timeout 150 ./switch interleaved 9 > "$OUT/bench-switch.txt" 2>&1
quick="--warm-up-time 0.5 --measurement-time 1.5"
timeout 60 ./stage_ledger --bench $quick > "$OUT/bench-ledger.txt" 2>&1
timeout 40 ./stage_authorize --bench $quick > "$OUT/bench-authorize.txt" 2>&1
timeout 40 ./stage_route --bench $quick > "$OUT/bench-route.txt" 2>&1
echo done >> "$OUT/index.txt"
