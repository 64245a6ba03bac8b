#!/usr/bin/env bash
# What durability costs, measured within one job: `clearway run` in memory (no data directory),
# journaled without sync (`--durability none`) and journaled with fdatasync (`fsync`), the three
# interleaved round by round so that the machine's drift hits them alike.
#
#   scripts/durability.sh [ROUNDS] [RATE] [SECONDS]     (defaults: 3, 180000, 10; RATE may be max)
#
# Prints each run's throughput, latency p50/p99 and journal figures, then per mode the medians
# and the ratios to the in-memory run. Builds the release binary first.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
rate="${2:-180000}"
seconds="${3:-10}"
cargo build --release -p clearway-harness >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for round in $(seq 1 "$rounds"); do
    for mode in memory none fsync; do
        extra=()
        if [ "$mode" != memory ]; then
            extra=(--data-dir "$work/data-$mode-$round" --durability "$mode")
        fi
        target/release/clearway run --rate "$rate" --duration "$seconds" --no-replay \
            --out "$work/results" --json "$work/$mode-$round.json" "${extra[@]}" >/dev/null \
            || [ $? -ge 5 ] # 5: the generator fell behind, 6: a gate failed; the figures stand
        rm -rf "$work/data-$mode-$round"
    done
done
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for mode in ("memory", "none", "fsync"):
    for round in range(1, rounds + 1):
        s = json.load(open(f"{work}/{mode}-{round}.json"))
        j = s["durability"]["journal"] or {}
        rows.setdefault(mode, []).append((
            s["throughput_per_s"], s["latency_ns"]["p50"], s["latency_ns"]["p99"],
            s["durability"]["written_mb_per_s"] or 0.0, j.get("events_per_commit_mean", 0.0),
            (j.get("sync_latency_ns") or {}).get("p50", 0), (j.get("sync_latency_ns") or {}).get("p99", 0),
            (j.get("durable_latency_ns") or {}).get("p50", 0), (j.get("durable_latency_ns") or {}).get("p99", 0),
            s["ok"]))
        r = rows[mode][-1]
        print(f"round {round} {mode:>6}: {r[0]:>10,.0f}/s  p50 {r[1]/1e3:>9.1f} µs  p99 {r[2]/1e3:>9.1f} µs"
              f"  {r[3]:>6.1f} MB/s  {r[4]:>7.1f} events/commit  sync p50 {r[5]/1e3:>7.1f} µs p99 {r[6]/1e3:>7.1f} µs"
              f"  durable p50 {r[7]/1e3:>7.1f} µs p99 {r[8]/1e3:>8.1f} µs  ok={r[9]}")
med = {m: [statistics.median(c) for c in zip(*[r[:9] for r in v])] for m, v in rows.items()}
print()
print(f"{'mode':>6} {'throughput/s':>13} {'p50 µs':>9} {'p99 µs':>9} {'MB/s':>7} {'ev/commit':>9} {'sync p50':>9} {'sync p99':>9} {'dur. p50':>9} {'dur. p99':>9}  ÷ memory (throughput)")
for mode, m in med.items():
    print(f"{mode:>6} {m[0]:>13,.0f} {m[1]/1e3:>9.1f} {m[2]/1e3:>9.1f} {m[3]:>7.1f} {m[4]:>9.1f} {m[5]/1e3:>9.1f} {m[6]/1e3:>9.1f} {m[7]/1e3:>9.1f} {m[8]/1e3:>9.1f}  {m[0]/med['memory'][0]:.3f}")
PY
