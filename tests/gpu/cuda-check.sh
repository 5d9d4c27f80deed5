#!/usr/bin/env bash
# tests/gpu/cuda-check.sh (`make cuda-check`, run by .ci/run): everything
# about the CUDA backend that a machine without a GPU can check.
#
#  1. The `cuda` build compiles and vets: inference/cuda, inference/runtime,
#     tests/vectors and cmd/infergeth with -tags cuda. On a machine without
#     CUDA in /usr/local/cuda the header and link stub come from
#     ../shared/tools/cuda-build-env (CUDA_BUILD_ENV overrides the path).
#  2. The kernels' CUDA source gives the reference's bytes in the CPU
#     emulator (go test -tags cudaemu ./inference/cuda).
#  3. The cuda build runs: tests/gpu/build.sh, then tests/gpu/fake-run.sh,
#     which runs the cuda CLI and test binaries against a stand-in
#     libcuda.so.1 whose kernels are that emulator.
#
# Reliability: cuda-build-env downloads about 800 MB once, then works from
# its cache (~/.cache/cuda-build-env) without the network. A failed download
# is retried three times; if it still fails, this check FAILS (it never
# skips silently: a CI that skips the cuda compile lets a broken GPU build
# land). Only a machine that has neither CUDA nor the script skips, and says
# so.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}
env_script=${CUDA_BUILD_ENV:-${SHARED:-../shared}/tools/cuda-build-env}

if [[ -f /usr/local/cuda/include/cuda.h ]]; then
  echo "cuda-check: CUDA in /usr/local/cuda"
elif [[ -x $env_script ]]; then
  flags=""
  for try in 1 2 3; do
    if flags=$("$env_script"); then break; fi
    flags=""
    echo "cuda-check: $env_script failed (try $try of 3)" >&2
    sleep $((try * 15))
  done
  [[ -n $flags ]] || { echo "cuda-check: FAILED: no CUDA header and link stub from $env_script" >&2; exit 1; }
  eval "$flags"
else
  echo "cuda-check: SKIPPED the cuda build: no /usr/local/cuda and no $env_script"
fi

cuda_build=false
if [[ -n ${CGO_CFLAGS:-} || -f /usr/local/cuda/include/cuda.h ]]; then
  cuda_build=true
  echo "cuda-check: go vet -tags cuda ./inference/cuda/... ./inference/runtime/... ./tests/vectors/"
  $GO vet -tags cuda ./inference/cuda/... ./inference/runtime/... ./tests/vectors/
  echo "cuda-check: go build -tags cuda ./cmd/infergeth"
  $GO build -tags cuda -o /dev/null ./cmd/infergeth
fi

echo "cuda-check: go vet -tags cudaemu ./inference/cuda/ && go test -tags cudaemu ./inference/cuda/"
$GO vet -tags cudaemu ./inference/cuda/
$GO test -tags cudaemu -count=1 -timeout 10m ./inference/cuda/

if $cuda_build; then
  echo "cuda-check: the cuda build on the fake driver (tests/gpu/build.sh, tests/gpu/fake-run.sh)"
  ./tests/gpu/build.sh >/dev/null
  ./tests/gpu/fake-run.sh
fi
