#!/usr/bin/env bash
# The crash test, long: a durable `clearway run` killed with SIGKILL at KILLS random moments
# (default 100), restarted on the same data directory each time, then checked from
# `clearway ledger export` against the ack log (harness/tests/crash_recovery.rs says what).
#
#   scripts/crash-test.sh [KILLS] [SEED]
#
# Takes about a second per kill. Prints the kills tried and what was found; exits non-zero on
# any finding, naming the seed that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-100}"
seed="${2:-$(date +%s)}"
CLEARWAY_CRASH_KILLS="$kills" CLEARWAY_CRASH_SEED="$seed" \
    cargo test --release -p clearway-harness --test crash_recovery -- --nocapture
