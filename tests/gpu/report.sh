#!/usr/bin/env bash
# tests/gpu/report.sh DIR: turns DIR/bench.txt (go test -bench of
# inference/cuda), DIR/int_mm.txt (tests/gpu/int_mm.py) and
# DIR/nvidia-smi.txt into the markdown section that goes into
# docs/benchmarks-recorded.md (tests/bench/run.sh appends that file to
# docs/benchmarks.md).
set -euo pipefail
dir=$1
# nvidia-smi.txt starts with "name, driver_version, memory.total".
IFS=, read -r gpu driver mem < <(head -1 "$dir/nvidia-smi.txt" 2>/dev/null) || true
gpu=$(echo "${gpu:-}" | xargs)
driver=${driver:+driver$(echo "$driver" | xargs | sed 's/^/ /')}
mem=$(echo "${mem:-}" | xargs)
commit=$(head -1 build/gpu/commit 2>/dev/null || echo unknown)
torchline=$(grep -m1 '^# torch' "$dir/int_mm.txt" 2>/dev/null | sed 's/^# //' || true)

echo "## CUDA backend (GPU)"
echo
echo "Recorded by \`tests/gpu/run.sh bench\` ($(date -u +%Y-%m-%dT%H:%MZ)) on ${gpu:-an unnamed GPU} (${driver:-driver unknown}${mem:+, $mem}),"
echo "binaries of commit ${commit:0:12} built by \`tests/gpu/build.sh\`. ${torchline:+Anchor: $torchline.}"
echo
echo "### int8 GEMM: the tensor-core kernel vs torch._int_mm (cuBLASLt)"
echo
echo "The kernel alone on operands resident on the device, requantizing to int8;"
echo "torch._int_mm writes int32. Target: at least 50% of torch._int_mm on large shapes."
echo "M ≤ 16 runs the dp4a kernel (torch._int_mm takes M > 16 only)."
echo
echo "| M | N | K | infergeth GMAC/s | µs per GEMM | torch._int_mm GMAC/s | ratio |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
awk '
  FNR == NR {
    if ($1 == "int_mm") { key = $2 " " $3 " " $4; anchor[key] = $5 }
    next
  }
  $1 ~ /^BenchmarkGEMM\// {
    split($1, p, "/"); name = p[2]; sub(/-[0-9]+$/, "", name)
    split(name, d, "_"); m = d[1]; n = d[2]; k = d[3]
    ns = ""; g = ""
    for (i = 3; i < NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "GMAC/s") g = $i }
    key = m " " n " " k
    a = (key in anchor) ? anchor[key] : ""
    ratio = (a != "" && a > 0) ? sprintf("%.0f%%", 100 * g / a) : "n/a"
    sub(/m=/, "", m); sub(/n=/, "", n); sub(/k=/, "", k)
    printf "| %s | %s | %s | %.0f | %.1f | %s | %s |\n", m, n, k, g, ns / 1000, (a == "" ? "n/a" : sprintf("%.0f", a)), ratio
  }
' "$dir/int_mm.txt" "$dir/bench.txt"
echo
echo "### Whole calls"
echo
echo "One call of Program.Run, copies and launches included. cuda-forced: every dense"
echo "node on the GPU; cuda-auto: nodes below DefaultMinNodeMACs on the CPU (here the"
echo "reference, as the benchmark passes no CPU kernel backend). Target: the GPU path"
echo "of a small model costs at most 30 µs per call."
echo
echo "| model | backend | µs per call | GMAC/s |"
echo "| --- | --- | ---: | ---: |"
awk '
  $1 ~ /^BenchmarkModelCall\// {
    split($1, p, "/"); be = p[3]; sub(/-[0-9]+$/, "", be)
    ns = ""; g = ""
    for (i = 3; i < NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "GMAC/s") g = $i }
    printf "| %s | %s | %.1f | %.2f |\n", p[2], be, ns / 1000, g
  }
' "$dir/bench.txt"
if grep -qE '^(--- FAIL|FAIL)' "$dir/bench.txt"; then
  echo
  echo "**The benchmark run failed; see bench.txt.**"
fi
