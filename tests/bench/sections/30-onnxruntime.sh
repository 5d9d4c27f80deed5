#!/usr/bin/env bash
# Section: infergeth against onnxruntime-node 1.30 (CPU execution provider,
# one thread, graph optimizations on) on the project's own int8 test models
# (tests/models): batch-1 latency side by side in one run, as ratios
# infergeth/onnxruntime (target <= 1.0 on every model), then the output
# agreement (infergeth identical across runs and backends; where
# onnxruntime's float requantization differs from infergeth's integer one).
# Markdown on stdout, progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../../.."
make -s tools build >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
models=()
for m in mlp mlp_qop cnn cnn_qop transformer; do
  echo "onnxruntime: infergeth model import tests/models/$m.onnx" >&2
  build/bin/infergeth model import "tests/models/$m.onnx" -o "$tmp/$m.bin" -n 4 >/dev/null
  models+=("$m=tests/models/$m.onnx:$tmp/$m.bin")
done
go run ./tests/models/gen -identity "$tmp/identity.onnx"
echo "## infergeth vs onnxruntime (int8 test models)"
echo
echo "Models: tests/models/README.md (an MLP 784-256-128-10 and a small CNN trained on synthetic digits, each in QDQ and QOperator form, and a transformer encoder block). The \`*_qop\` files convert to the same infergeth model as their QDQ twins; onnxruntime runs each form its own way."
echo
node tests/models/ort/bench.mjs --infergeth build/bin/infergeth --floor "$tmp/identity.onnx" \
  --runs "${ORT_BENCH_RUNS:-2000}" --warmup 200 --rounds "${ORT_BENCH_ROUNDS:-5}" "${models[@]}"
echo
go run ./tests/models/ortcheck -dir tests/models -bin build/bin/infergeth -n 200
