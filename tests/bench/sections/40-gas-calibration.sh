#!/usr/bin/env bash
# Gas calibration: ns per gas of inference across model shapes on every path
# a node can take (each backend, the cpu backend once per kernel path this
# CPU has), each call paired with ecrecover calls in the same process
# (tests/bench/gascal), in interleaved rounds.
set -euo pipefail
echo "## Gas calibration: inference vs ecrecover, per path"
echo
echo '```'
echo "go run ./tests/bench/gascal -budget 200ms -rounds 3"
echo '```'
echo
echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
echo
go run ./tests/bench/gascal -budget 200ms -rounds 3
