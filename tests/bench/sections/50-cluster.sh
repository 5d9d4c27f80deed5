#!/usr/bin/env bash
# Section: the four-validator CometBFT cluster beside the dev engine, in
# one run: block interval, transfers/s, inference calls/s (mlp, cnn) and
# send-to-receipt latency through a node, as ratios cluster/dev (targets:
# block interval <= 1 s, inference throughput >= 0.5x the dev engine's).
set -euo pipefail
cd "$(dirname "$0")/../../.."
make -s build >&2
echo "cluster: a 4-validator network and a devnet side by side (about a minute)" >&2
go run ./tests/bench/clusterbench -infergeth build/bin/infergeth -transfers 1200 -inferences 160 -samples 40
