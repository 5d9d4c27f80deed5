#!/usr/bin/env bash
# tests/gpu/fake-run.sh: runs the `cuda` build on a machine without a GPU,
# against tests/gpu/fakedriver (a libcuda.so.1 whose kernels are the CPU
# emulator of inference/cuda/kernels): the cuda CLI over every composed
# vector (tests/vectors/check.sh), tests/vectors' test binary, and the GPU
# tests of inference/cuda that the emulator can afford. What this checks
# that the emulated tests of `go test -tags cudaemu` do not: the binary as
# built with -tags cuda starts, gorgonia.org/cu's calls and their errors as
# inference/cuda/cu.go makes them, the kernel parameters as cuLaunchKernel
# receives them, the embedded PTX's presence, runtime's gpu_cuda.go. What it
# cannot check: the driver's JIT of the PTX and the hardware (tests/gpu/run.sh).
#
# Usage: tests/gpu/fake-run.sh [--full]   (after tests/gpu/build.sh)
# --full adds TestGPUConcurrent and TestGPUOutOfMemory (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/gpu
for f in cuda.test vectors.test infergeth; do
  [[ -x $bin/$f ]] || { echo "fake-run: $bin/$f is missing: run tests/gpu/build.sh first" >&2; exit 2; }
done
inc=""
for d in /usr/local/cuda/include "${HOME}/.cache/cuda-build-env/include"; do
  [[ -f $d/cuda.h ]] && { inc=$d; break; }
done
if [[ -z $inc ]]; then
  eval "$("${SHARED:-../shared}/tools/cuda-build-env")"
  inc=${CGO_CFLAGS#-I}
fi
mkdir -p build/fakecuda
g++ -std=c++20 -O2 -shared -fPIC -pthread -I"$inc" -o build/fakecuda/libcuda.so.1 tests/gpu/fakedriver/fakecuda.cc
export LD_LIBRARY_PATH=$PWD/build/fakecuda INFERGETH_CUDA_MIN_MACS=0

echo "fake-run: the cuda CLI on every composed vector"
tests/vectors/check.sh "$bin/infergeth" 2> >(grep -v 'INFO cuda: GPU backend ready' >&2)
echo "fake-run: tests/vectors -tags cuda, every dense node on the (fake) GPU"
(cd tests/vectors && ../../$bin/vectors.test -test.count 1)
tests='TestGPUVectors'
[[ ${1:-} == --full ]] && tests='TestGPUVectors|TestGPUConcurrent|TestGPUOutOfMemory'
echo "fake-run: inference/cuda $tests"
(cd inference/cuda && ../../$bin/cuda.test -test.run "$tests" -test.count 1)
echo "fake-run: a driver that sees no GPU: the cuda CLI runs without the cuda backend"
FAKECUDA_DEVICES=0 "$bin/infergeth" model backends 2>&1 | tr '\n' ' '
echo
FAKECUDA_DEVICES=0 "$bin/infergeth" model backends 2>/dev/null | grep -qx cuda && { echo "fake-run: cuda listed without a device" >&2; exit 1; }
echo "fake-run: ok"
