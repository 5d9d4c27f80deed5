#!/usr/bin/env bash
# tests/gpu/build.sh: builds, on any x86-64 Linux machine (no GPU needed),
# what tests/gpu/run.sh runs on a GPU machine, into build/gpu/ (ignored by
# git; about 46 MB, small enough to travel with the working tree):
#
#   cuda.test     inference/cuda's tests and benchmarks, -tags cuda
#   vectors.test  tests/vectors, -tags cuda: every op-level and composed
#                 vector on every backend (cuda included)
#   infergeth     the cuda build of the CLI, for tests/vectors/check.sh
#   commit        the commit (and whether the tree had changes) they are of
#
# Without CUDA in /usr/local/cuda it compiles against the header and link
# stub of ../shared/tools/cuda-build-env (SHARED overrides ../shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ ! -f /usr/local/cuda/include/cuda.h ]]; then
  eval "$("${SHARED:-../shared}/tools/cuda-build-env")"
fi
out=build/gpu
mkdir -p "$out"
flags=(-tags cuda -trimpath -ldflags=-s\ -w)
go test -c "${flags[@]}" -o "$out/cuda.test" ./inference/cuda
go test -c "${flags[@]}" -o "$out/vectors.test" ./tests/vectors
go build "${flags[@]}" -o "$out/infergeth" ./cmd/infergeth
{ git rev-parse HEAD; git diff --quiet HEAD -- inference tests cmd go.mod || echo "with uncommitted changes"; } >"$out/commit" 2>/dev/null || true
ls -l "$out"
