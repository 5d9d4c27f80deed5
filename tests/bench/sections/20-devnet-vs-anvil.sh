#!/usr/bin/env bash
# Section: `infergeth devnet` against anvil 1.7.1, side by side in one run:
# send-to-receipt latency and eth_call throughput, as ratios infergeth/anvil
# (targets: latency <= 1.5x, throughput >= 1.0x). Markdown on stdout,
# progress on stderr. The same client (tests/bench/devnetbench) measures both.
set -euo pipefail
cd "$(dirname "$0")/../../.."
make -s tools build >&2
echo "devnet-vs-anvil: anvil and infergeth side by side, alternating (about a minute)" >&2
go run ./tests/bench/devnetbench \
  -anvil tests/tools/node_modules/.bin/anvil \
  -infergeth build/bin/infergeth \
  -samples 600 -clients 8 -duration 20s
