#!/usr/bin/env bash
# Section: blocks of the worst (docs/reliability.md): a block's gas filled
# with first calls of the costliest shapes on distinct models, per CPU path:
# time to build and re-execute against a 1 s interval, and the heap's peak.
set -euo pipefail
cd "$(dirname "$0")/../../.."
echo "## Blocks of the worst"
echo
echo '```'
echo 'go run ./tests/bench/gascal -worst-block'
echo '```'
echo
go run ./tests/bench/gascal -worst-block
