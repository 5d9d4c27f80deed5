#!/usr/bin/env bash
# Section: the cpu backend's GEMM and batch-1 GEMV kernels on one core, as
# GMAC/s, percent of the per-core VNNI peak (nominal 128 MAC/cycle and the
# measured VPDPBUSD throughput) and percent of measured single-core memory
# bandwidth (targets: >= 70% of the nominal peak, GEMV >= 80% of bandwidth).
# Markdown on stdout, progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../../.."
make -s build >&2
build/bin/infergeth bench kernels --seconds 1.5
echo
echo '`infergeth bench gemm --seconds 3` (the headline compute-bound shape; its last line is the machine-readable result):'
echo
echo '```'
build/bin/infergeth bench gemm --seconds 3
echo '```'
