#!/usr/bin/env bash
# The switch embedded (`clearway run`) against the same switch as a TCP node (`clearway serve`)
# driven by `clearway load` from another process, at each rate given, interleaved round by round,
# on this machine. Prints one line per run and the node/embedded ratio of payments processed per
# second and of p99 for each rate and round. "Processed" counts the payments the switch decided
# (approved, declined, rejected, expired) over the load window and the drain: the node answers
# payments over an institution's in-flight limit BUSY without taking them, and answered/s counts
# those too; at `--rate max` the load sends past the limits, so the two differ there. Both use the same topology (auto), network (seed 1) and
# workload; both run in memory, or with DURABLE=1 both journal to a fresh data directory with
# fsync before answering.
#
#   scripts/node-vs-embedded.sh ROUNDS SECONDS RATE...      e.g. 3 5 10000 20000 max
#   DURABLE=1 scripts/node-vs-embedded.sh 3 5 20000 max
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:?rounds}; seconds=${2:?seconds}; shift 2
rates=("$@")
cargo build --release --quiet -p clearway-harness
bin=target/release/clearway
out=$(mktemp -d)
port=7431
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$2)" "$1"; }
processed() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); p=d['payments']; print((p['approved']+p['declined']+p['rejected']+p['expired'])/(d['duration_s']+d['drain_s']))" "$1"
}
printf '%-6s %-6s %-9s %12s %12s %8s %10s %10s %10s %s\n' round rate mode answered/s processed/s busy p50_us p99_us p999_us ok
for round in $(seq 1 "$rounds"); do
    for rate in "${rates[@]}"; do
        run_data=(); node_data=()
        if [ "${DURABLE:-0}" = 1 ]; then
            rm -rf "$out/run-data" "$out/node-data"
            run_data=(--data-dir "$out/run-data"); node_data=(--data-dir "$out/node-data")
        fi
        "$bin" run --rate "$rate" --duration "$seconds" --no-replay --json "$out/run.json" \
            --out "$out/batches" "${run_data[@]}" > /dev/null || true
        "$bin" serve --listen 127.0.0.1:$port --out "$out/batches" "${node_data[@]}" \
            > "$out/serve.txt" 2>&1 &
        node=$!
        until grep -q "listening on" "$out/serve.txt"; do sleep 0.1; done
        "$bin" load --target 127.0.0.1:$port --rate "$rate" --duration "$seconds" \
            --json "$out/load.json" > /dev/null 2>&1 || true
        kill -TERM $node; wait $node || true
        port=$((port + 1))
        for mode in run load; do
            file="$out/$mode.json"
            printf '%-6s %-6s %-9s %12.0f %12.0f %8s %10.0f %10.0f %10.0f %s\n' "$round" "$rate" \
                "$([ $mode = run ] && echo embedded || echo node)" \
                "$(field "$file" "['throughput_per_s']")" \
                "$(processed "$file")" \
                "$(field "$file" "['payments']['busy']")" \
                "$(field "$file" "['latency_ns']['p50']/1000")" \
                "$(field "$file" "['latency_ns']['p99']/1000")" \
                "$(field "$file" "['latency_ns']['p999']/1000")" \
                "$(field "$file" "['ok']")"
        done
        python3 - "$out/run.json" "$out/load.json" "$rate" "$round" <<'PY'
import json, sys
run, load = (json.load(open(path)) for path in sys.argv[1:3])
def processed(d):
    p = d['payments']
    return (p['approved'] + p['declined'] + p['rejected'] + p['expired']) / (d['duration_s'] + d['drain_s'])
print(f"{sys.argv[4]:<6} {sys.argv[3]:<6} ratio     node/embedded processed/s {processed(load) / processed(run):.2f}, "
      f"p99 ×{load['latency_ns']['p99'] / max(run['latency_ns']['p99'], 1):.0f}; "
      f"generator late {load['generator']['late_fraction'] * 100:.1f}%")
PY
    done
done
rm -rf "$out"
