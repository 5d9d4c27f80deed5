#!/usr/bin/env bash
# Gas calibration: ns per gas of inference across model shapes, side by side
# with ecrecover in one process (tests/bench/gascal).
set -euo pipefail
echo "## Gas calibration: inference vs ecrecover"
echo
echo '```'
echo "go run ./tests/bench/gascal -budget 400ms"
echo '```'
echo
go run ./tests/bench/gascal -budget 400ms
