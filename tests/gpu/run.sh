#!/usr/bin/env bash
# tests/gpu/run.sh [test|bench|all]: on a machine with an NVIDIA GPU of
# compute capability 8.0 or newer and its driver, runs what
# tests/gpu/build.sh built (build/gpu/), from the repository root:
#
#   test   inference/cuda's tests (GPU differential tests against the
#          reference: random and adversarial cases of every dense op on both
#          GEMM kernels, tile edges, the longest K, im2col chunks, the
#          composed vectors, concurrency, a real out-of-memory), then every
#          vector of tests/vectors through runtime.Backends() and through the
#          CLI (tests/vectors/check.sh), with every dense node on the GPU
#          (INFERGETH_CUDA_MIN_MACS=0).
#   bench  BenchmarkGEMM and BenchmarkModelCall, and tests/gpu/int_mm.py
#          (torch._int_mm, cuBLASLt, on the same GEMM shapes) when python3
#          has torch with CUDA.
#
# Writes into $OUT (default build/gpu/out), at most 8 files: nvidia-smi.txt,
# test.log, bench.txt, int_mm.txt, and benchmarks-cuda.md, the section for
# docs/benchmarks-recorded.md. Exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
bin=build/gpu
out=${OUT:-$bin/out}
mkdir -p "$out"
status=0

for f in cuda.test vectors.test infergeth; do
  [[ -x $bin/$f ]] || { echo "run.sh: $bin/$f is missing: run tests/gpu/build.sh first" >&2; exit 2; }
done
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader && nvidia-smi; } >"$out/nvidia-smi.txt" 2>&1 ||
  echo "run.sh: nvidia-smi failed" >&2

# step NAME CMD...: runs CMD, appends its output to test.log, prints a verdict.
step() {
  local name=$1
  shift
  echo "=== $name: $*" >>"$out/test.log"
  local t0=$SECONDS
  if "$@" >>"$out/test.log" 2>&1; then
    echo "PASS $name ($((SECONDS - t0))s)"
  else
    echo "FAIL $name ($((SECONDS - t0))s): see test.log"
    status=1
  fi
}

if [[ $what == test || $what == all ]]; then
  : >"$out/test.log"
  cat "$bin/commit" >>"$out/test.log" 2>/dev/null
  step unit bash -c "cd inference/cuda && ../../$bin/cuda.test -test.v -test.timeout 15m"
  step vectors bash -c "cd tests/vectors && INFERGETH_CUDA_MIN_MACS=0 ../../$bin/vectors.test -test.v -test.timeout 10m"
  step vectors-cli env INFERGETH_CUDA_MIN_MACS=0 tests/vectors/check.sh "$bin/infergeth"
  grep -E '^(--- FAIL|FAIL|panic)' "$out/test.log" | head -20
fi

if [[ $what == bench || $what == all ]]; then
  echo "=== bench" >&2
  (cd inference/cuda && "../../$bin/cuda.test" -test.run '^$' -test.bench . -test.benchtime 1s -test.timeout 15m) \
    >"$out/bench.txt" 2>&1 || { echo "FAIL bench: see bench.txt"; status=1; }
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    PYTHONUNBUFFERED=1 python3 tests/gpu/int_mm.py >"$out/int_mm.txt" 2>&1 || { echo "FAIL int_mm: see int_mm.txt"; status=1; }
  else
    echo "no torch with CUDA here: no torch._int_mm anchor" >"$out/int_mm.txt"
  fi
  tests/gpu/report.sh "$out" >"$out/benchmarks-cuda.md"
  cat "$out/benchmarks-cuda.md"
fi
exit $status
